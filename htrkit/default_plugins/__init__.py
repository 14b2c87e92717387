"""htrkit's own components, registered through the same hooks as any third-party plugin.

Each module here is a plugin. Heavy imports (numpy, torch, cv2) happen inside factories.
"""
