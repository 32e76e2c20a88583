"""Style and content losses of Texture Networks: Gram matrices of VGG-19 features.

Gram matrix G = F F^T / (C H W) per sample; style loss = s * sum over layers of
weight * MSE(G, G_texture); content loss = weight * MSE(F, F_photo) at relu4_2.

The style scale s exists because the weights alone do not say how strong the style is: the
size of a Gram error depends on the loss network's weights (ImageNet or random), its input
convention and the texture, by factors of 1e3 to 1e7. The seed's weights (5,6,2,2,2 against
1e3) were tuned in units where the style term started near the content term; `calibrate`
finds the s that makes that true again in any units, so the weights keep their meaning.

The layers and weights are the caller's: the product's defaults (relu1_1..relu5_1, the seed's
weights) are its settings (worker/settings.json), which this layer does not read.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .vgg import VGGFeatures

CONTENT_LAYER = 'relu4_2'
# Where texture synthesis measures how different its samples are (the content layer's features:
# they are computed anyway).
DIVERSITY_LAYER = CONTENT_LAYER
# What `calibrate` measures the style term against: the first training batch through the
# initial generator (step 1's own output, so the first iteration's losses show the balance).
# The other candidate, a mid-grey image against the photos, was measured and rejected: its
# style loss is mostly the texture's own Gram energy, so the scale it gives varies 6x from
# one built-in texture to another (0.04-0.25 of this one's), while this one varies 2x.


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C), normalised by C*H*W. Always in float32, autocast or not: in
    fp16 the sums over H*W overflow, and in bf16 every entry keeps 3 digits, a noise floor under
    the style loss (autocast would run bmm in either, whatever its inputs)."""
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        f = features.float()
        if f.is_contiguous(memory_format=torch.channels_last):  # NHWC: F^T as a view, no copy of the map
            f = f.permute(0, 2, 3, 1).reshape(b, h * w, c)
        else:
            f = f.reshape(b, c, h * w).transpose(1, 2)
        return torch.bmm(f.transpose(1, 2), f) / (c * h * w)


class TextureLoss(nn.Module):
    """The training objective for one texture: VGG-19 style loss plus content loss.

    The texture's Gram matrices are computed once, here. `style_weights` maps each style layer
    to its weight ({'relu1_1': 5.0, ...}). `forward(output, photo)` returns (style, content) for
    a batch of generator outputs and the photos they were made from, all RGB in [0, 1].
    """

    def __init__(self, vgg: nn.Module, texture: torch.Tensor, style_weights: Mapping[str, float],
                 content_weight: float, style_scale: float = 1.0, content_layer=CONTENT_LAYER):
        super().__init__()
        self.style_layers = tuple(style_weights)
        self.content_layer = content_layer
        self.style_weights = tuple(float(w) for w in style_weights.values())
        self.content_weight = float(content_weight)
        self.style_scale = float(style_scale)
        self.features = VGGFeatures(vgg, self.style_layers + (content_layer,))
        with torch.no_grad():
            feats = self.features(texture)
            for i, layer in enumerate(self.style_layers):
                self.register_buffer(f'texture_gram_{i}', gram_matrix(feats[layer]))

    @property
    def texture_grams(self):
        return [getattr(self, f'texture_gram_{i}') for i in range(len(self.style_layers))]

    def style_terms(self, feats: dict, batch: int, normalise_grad: bool = False) -> list:
        """One Gram MSE per style layer. `normalise_grad`: each layer's own gradient is divided by
        its L1 norm on its way back (the authors' synthesis recipe); the deeper layers' gradients
        that pass through the same map are left as they are."""
        return [F.mse_loss(gram_matrix(_L1NormalisedGrad.apply(feats[l], w) if normalise_grad else feats[l]),
                           t.expand(batch, -1, -1))
                for l, t, w in zip(self.style_layers, self.texture_grams, self.style_weights)]

    def terms(self, output: torch.Tensor, photo: torch.Tensor):
        """Unweighted losses: (one Gram MSE per style layer, the content MSE)."""
        with torch.no_grad():
            target = self.features(photo, layers=(self.content_layer,))[self.content_layer]
        feats = self.features(output)
        return self.style_terms(feats, len(output)), F.mse_loss(feats[self.content_layer].float(), target.float())

    def on_batch(self, model, photos):
        """(style, content, None) of a training batch: what the trainer adds, and nothing watched beside."""
        return *self(model(photos), photos), None

    def forward(self, output: torch.Tensor, photo: torch.Tensor):
        """(style, content), weighted and scaled: the two terms the trainer adds."""
        style, content = self.terms(output, photo)
        return (self.style_scale * sum(w * l for w, l in zip(self.style_weights, style)),
                self.content_weight * content)


class _L1NormalisedGrad(torch.autograd.Function):
    """Identity forward; backward divides the gradient by its L1 norm (over the whole batch) and
    multiplies it by the layer's weight, as the authors' StyleLoss did: the layers' weights keep
    their meaning, the loss's scale (the texture, the VGG weights) does not matter."""

    @staticmethod
    def forward(ctx, x, weight: float):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.weight / (grad.abs().sum() + 1e-8)), None


class SynthesisLoss(TextureLoss):
    """The objective of texture synthesis: the style term alone, on a batch of samples, minus
    `diversity` times the batch's entropy estimate (Improved Texture Networks, Ulyanov et al.
    2017): the mean log distance of each sample to its nearest other sample in the features of
    DIVERSITY_LAYER. Without it a generator tends to give nearly one image whatever the noise.

    `forward(samples)` returns (style, diversity term, mean nearest-sample distance): the first
    two are what the trainer adds; the distance is what a user watches (0: every sample alike).
    """

    def __init__(self, vgg: nn.Module, texture: torch.Tensor, style_weights: Mapping[str, float],
                 diversity: float = 0.0, style_scale: float = 1.0, normalise_grad: bool = False):
        super().__init__(vgg, texture, style_weights, 0.0, style_scale, content_layer=DIVERSITY_LAYER)
        self.diversity = float(diversity)
        self.normalise_grad = normalise_grad

    def terms(self, samples: torch.Tensor):
        """(unweighted style terms, nearest-sample distance of each sample, or None for a batch of one)."""
        feats = self.features(samples)
        style = self.style_terms(feats, len(samples), self.normalise_grad)
        return style, nearest_distances(feats[self.content_layer]) if len(samples) > 1 else None

    def on_batch(self, model, noises):
        return self(model(noises))

    def forward(self, samples: torch.Tensor):
        style, nearest = self.terms(samples)
        style = self.style_scale * sum(w * l for w, l in zip(self.style_weights, style))
        if nearest is None:
            zero = style.new_zeros(())
            return style, zero, zero
        return style, -self.diversity * torch.log(nearest).mean(), nearest.mean().detach()


def nearest_distances(features: torch.Tensor) -> torch.Tensor:
    """(B,) the mean absolute difference of each sample's features to its nearest other sample's."""
    f = features.float().flatten(1)
    d = torch.cdist(f, f, p=1) / f.shape[1]
    d = d + torch.diag(torch.full((len(f),), float('inf'), device=f.device))
    return d.min(1).values.clamp_min(1e-8)


def calibrate(style_terms, content_term, balance: float, weights: Sequence[float], content_weight: float) -> float:
    """The style scale s that makes the style term weighted by the reference `weights` (the
    seed's: the product's defaults) `balance` times the content term weighted by the reference
    `content_weight`, for terms measured (by `TextureLoss.terms`) on the reference batch. A
    user's own weights then act on top: doubling the content weight halves the relative style."""
    style = sum(float(w) * float(l) for w, l in zip(weights, style_terms, strict=True))
    content = float(content_weight) * float(content_term)
    if not (style > 0 and content > 0):
        raise ValueError('the style scale cannot be calibrated: the reference has no style or no content '
                         'loss (a blank texture, or blank photos?). Give --style_scale a number instead.')
    return balance * content / style
