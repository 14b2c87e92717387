"""htrkit's own components, registered through the same hooks as any third-party plugin.

Each module here is a plugin that returns records only: their factories are import strings
(``"htrkit.decoders.beam:BeamDecoder"``), so registering imports nothing heavy (numpy,
torch, cv2); a component's module is imported when it is first built.
"""
