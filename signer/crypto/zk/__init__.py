"""CGGMP21 zero-knowledge proofs for a secure GG20: one module per proof, shared parameters in `base`.

    base      ProofError, ProofContext, the parameters (ℓ = 256, ε = 512, ℓ' = 1280; m = 128 repetitions)
    schnorr   Schnorr proof of knowledge of a discrete log
    enc       Π^enc   Paillier plaintext in range ±2^ℓ
    logstar   Π^log*  Paillier plaintext equals a discrete log
    affg      Π^aff-g affine operation on a ciphertext with a group commitment (MtA / MtAwc)
    mod       Π^mod   Paillier–Blum modulus
    prm       Π^prm   ring-Pedersen parameters
    fac       Π^fac   no small factor

Every `verify` raises ProofError and never returns False; every proof's `from_bytes` raises DecodeError.
"""

from .base import ELL, ELL_PRIME, EPSILON, REPETITIONS, ProofContext, ProofError

__all__ = ["ELL", "ELL_PRIME", "EPSILON", "REPETITIONS", "ProofContext", "ProofError"]
