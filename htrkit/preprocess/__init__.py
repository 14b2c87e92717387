"""Line image preprocessing: the chain recorded in model files, and built-in steps."""
