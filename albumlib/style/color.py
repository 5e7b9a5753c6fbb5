"""Colour preservation: keep a photo's colours and take only the luminance from a painting.

Luminance-only transfer (Gatys et al. 2016, "Preserving color in neural artistic style transfer";
jcjohnson/neural-style's -original_colors): repaint in luminance, then put the photo's chroma back.
Taught in notebook 01 (Gatys) and notebook 02 (fast networks).
"""

import numpy as np

# ITU-R BT.601 RGB -> YIQ (the transform neural-style uses for -original_colors).
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114],
                        [0.595716, -0.274453, -0.321263],
                        [0.211456, -0.522591, 0.311135]], dtype=np.float32)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ).astype(np.float32)


def rgb_to_yiq(rgb):
    """Convert RGB (..., 3) to YIQ; Y is the luminance; notebook 01."""
    return np.asarray(rgb, np.float32) @ _RGB_TO_YIQ.T


def yiq_to_rgb(yiq):
    """Convert YIQ (..., 3) back to RGB; notebook 01."""
    return np.asarray(yiq, np.float32) @ _YIQ_TO_RGB.T


def luminance(rgb):
    """Return the luminance Y of an RGB image, shape (H, W); notebook 01."""
    return rgb_to_yiq(rgb)[..., 0]


def match_luminance(style_rgb, content_rgb):
    """Grey version of a style image whose luminance mean and spread match the content's; notebook 01."""
    ys, yc = luminance(style_rgb), luminance(content_rgb)
    matched = (ys - ys.mean()) / (ys.std() + 1e-6) * yc.std() + yc.mean()
    return np.repeat(np.clip(matched, 0.0, 1.0)[..., None], 3, axis=-1)


def transfer_luminance(stylized_rgb, content_rgb):
    """Luminance of the repainted image with the chroma (I, Q) of the original photo; notebook 01."""
    stylized, content = np.asarray(stylized_rgb, np.float32), np.asarray(content_rgb, np.float32)
    if stylized.shape != content.shape:
        raise ValueError(f"shapes differ: repainted {stylized.shape}, photo {content.shape}")
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = luminance(stylized)
    return np.clip(yiq_to_rgb(yiq), 0.0, 1.0)


def blend(stylized_rgb, content_rgb, strength=1.0):
    """Style-strength knob: strength 1 is the repainted image, 0 the original photo; notebook 02."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    return strength * np.asarray(stylized_rgb, np.float32) + (1 - strength) * np.asarray(content_rgb, np.float32)
