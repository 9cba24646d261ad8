"""Image and file operations.

Colour match, contrast, sharpen, noise, masks, frame I/O, ffmpeg, optical flow, audio, plots, URL inputs.
"""

__all__ = [
    "audio", "color", "flow", "frames_io", "human_masks", "hybrid", "hybrid_motion", "image_ops", "masks", "noise",
    "plots", "remote", "srt", "video", "video_pipe"
]
