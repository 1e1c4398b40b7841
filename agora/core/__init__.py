"""The Qt-free core: posts, pipeline stages, analytics and the snapshot the wall reads."""
