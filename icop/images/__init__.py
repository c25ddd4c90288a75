"""Image conversion for the pipeline: provider output → stored, platform-ready JPEG."""

from .convert import ConvertOptions, JpegConverter, JpegImage, convert_many
from .errors import ImageRejected

__all__ = ["ConvertOptions", "ImageRejected", "JpegConverter", "JpegImage", "convert_many"]
