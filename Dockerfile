# prodlike's container image: build the binary in a Rust image, run it in a minimal one.
# Unverified here: no image can be built or pulled on the development machines; the stages, user
# and entrypoint are checked by crates/cli/tests/deploy_manifests.rs (see deploy/kubernetes/README.md).
# Build: docker build -t ghcr.io/prodlike/prodlike:0.1.0 .

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# --locked: the Cargo.lock the tests ran with.
RUN cargo build --release --locked -p prodlike \
 && install -D -m 0755 target/release/prodlike /out/prodlike

# glibc and CA certificates, no shell, no package manager; uid 65532 (nonroot).
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/prodlike /usr/local/bin/prodlike
USER 65532:65532
# The proxy's ports (deploy/kubernetes/shadow/shadow.toml): traffic, then admin (/metrics, /healthz).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/prodlike"]
CMD ["--help"]
