# Consul agent service definition for one mpc-signer node (same content as mpc-signer.json).
# Copy to the agent's config dir (e.g. /etc/consul.d/) and `consul reload`. The check is Consul's native
# gRPC check against the node's standard grpc.health.v1.Health service: overall status "" turns
# NOT_SERVING when the node drains, so Consul takes it out of rotation before it stops.
# With mTLS (grpc.client_auth = require) the agent must run with enable_agent_tls_for_checks = true
# (agent-tls-for-checks.hcl): it then presents its own TLS certificate, which the node's grpc.ca_cert
# must trust; the agent's ca_file must trust the node's server certificate, whose SANs include 127.0.0.1.
# No deregister_critical_service_after: a file-defined service that Consul reaps comes back only at the
# next `consul reload`, so a node down for longer would stay out of the catalog once healthy again
# (docs/operations.md, "Consul").
service {
  id   = "server-signer-p2"
  name = "mpc-signer"
  tags = ["mpc", "signer", "grpc"]
  port = 9091

  meta {
    node_type = "signer"
    protocols = "gg20,frost"
  }

  check {
    id                                = "server-signer-p2-grpc-health"
    name                              = "grpc.health.v1 on 127.0.0.1:9091"
    grpc                              = "127.0.0.1:9091"
    grpc_use_tls                      = true
    tls_server_name                   = "127.0.0.1"
    tls_skip_verify                   = false
    interval                          = "10s"
    timeout                           = "3s"
  }
}
