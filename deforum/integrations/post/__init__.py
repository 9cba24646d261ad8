"""Post-processing: frame streams, the pair-interpolation driver, RIFE, FILM, Real-ESRGAN upscaling, video tools."""

__all__ = ["engines", "film", "frame_stream", "interpolation", "postprocess", "rife", "upscale", "video_tools"]
