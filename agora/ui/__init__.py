"""The wall (Qt): screens, pages, panels and theme. The only package besides `console` that imports Qt."""
