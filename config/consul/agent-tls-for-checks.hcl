# Consul agent setting (not a service definition) for nodes that require client certificates
# (grpc.client_auth = require, the production setting). Copy it into the agent's config dir next to
# mpc-signer.hcl and `consul reload`.
#
# Without it the agent runs the gRPC health check with no client certificate, the node ends the TLS
# handshake, and the service never turns passing. With it the agent presents the certificate and key of
# its own tls settings (tls.defaults or tls.internal_rpc) and verifies the node against its ca_file, so
# the node's grpc.ca_cert must also trust the CA of the agent's certificate (docs/operations.md,
# "Consul"). Deliberately no tls paths here: they would override the agent's own.
enable_agent_tls_for_checks = true
