"""mpc-signer: the signing node of an MPC wallet (GG20 threshold ECDSA, FROST EdDSA)."""

__version__ = "0.1.0"
