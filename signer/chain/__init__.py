"""Chain adapters: addresses and signature encodings for Ethereum, Bitcoin and Solana.

Pure functions over public data (keys, digests, signatures); no I/O. `chain_output` is what the CLI uses.
"""

from signer.chain.registry import CHAINS, chain_output

__all__ = ["CHAINS", "chain_output"]
