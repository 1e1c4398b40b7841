"""The wall (Qt): screens, pages, panels and theme. Only `ui` and `console` import Qt."""
