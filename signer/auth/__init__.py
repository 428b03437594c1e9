"""Authentication building blocks the transport layer wires in: message MACs (docs/contract.md §3.3), service
tokens (JWT), TLS contexts for mTLS, key files, and development certificates for `signer certs dev`.

Everything here is synchronous and free of gRPC so it can be tested on its own and reused by the
server, the coordinator client and the CLI alike.
"""
