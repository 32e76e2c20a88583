"""What this machine's processor can do, asked by the trainer (its precision) and by the service
(the wizard's device card), so neither imports the other."""
import torch


def cpu_has_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX): autocast pays only then."""
    try:
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except AttributeError:  # a torch without these probes: assume not
        return False
