"""Style and content losses of Texture Networks: Gram matrices of VGG-19 features.

Gram matrix G = F F^T / (C H W) per sample; style loss = sum over layers of
weight * MSE(G, G_texture); content loss = weight * MSE(F, F_photo) at relu4_2.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .vgg import VGGFeatures

STYLE_LAYERS = ('relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1')
CONTENT_LAYER = 'relu4_2'
DEFAULT_STYLE_WEIGHTS = (5.0, 6.0, 2.0, 2.0, 2.0)
DEFAULT_CONTENT_WEIGHT = 1e3


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C), normalised by C*H*W. Always in float32: under fp16
    autocast the sums over H*W overflow."""
    b, c, h, w = features.shape
    f = features.float().reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def style_loss(grams, target_grams, weights) -> torch.Tensor:
    """Weighted sum of MSE between each layer's Gram matrices and the texture's (1, C, C)."""
    return sum(w * F.mse_loss(g, t.expand_as(g)) for g, t, w in zip(grams, target_grams, weights))


def content_loss(features, target, weight) -> torch.Tensor:
    return weight * F.mse_loss(features.float(), target.float())


class TextureLoss(nn.Module):
    """The training objective for one texture: VGG-19 style loss plus content loss.

    The texture's Gram matrices are computed once, here. `forward(output, photo)` returns
    (style, content) for a batch of generator outputs and the photos they were made from,
    all RGB in [0, 1].
    """

    def __init__(self, vgg: nn.Module, texture: torch.Tensor,
                 style_weights=DEFAULT_STYLE_WEIGHTS, content_weight=DEFAULT_CONTENT_WEIGHT,
                 style_layers=STYLE_LAYERS, content_layer=CONTENT_LAYER):
        super().__init__()
        if len(style_weights) != len(style_layers):
            raise ValueError(f'{len(style_layers)} style weights are needed '
                             f'(one per layer {", ".join(style_layers)}), got {len(style_weights)}')
        self.style_layers = tuple(style_layers)
        self.content_layer = content_layer
        self.style_weights = tuple(float(w) for w in style_weights)
        self.content_weight = float(content_weight)
        self.features = VGGFeatures(vgg, self.style_layers + (content_layer,))
        with torch.no_grad():
            feats = self.features(texture)
            for i, layer in enumerate(self.style_layers):
                self.register_buffer(f'texture_gram_{i}', gram_matrix(feats[layer]))

    @property
    def texture_grams(self):
        return [getattr(self, f'texture_gram_{i}') for i in range(len(self.style_layers))]

    def forward(self, output: torch.Tensor, photo: torch.Tensor):
        with torch.no_grad():
            target = self.features(photo, layers=(self.content_layer,))[self.content_layer]
        feats = self.features(output)
        style = style_loss([gram_matrix(feats[l]) for l in self.style_layers], self.texture_grams, self.style_weights)
        content = content_loss(feats[self.content_layer], target, self.content_weight)
        return style, content
