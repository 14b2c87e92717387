"""Line segmenters: find the text lines of a page."""
