# Build a static binary, then run it as a non-root user in a small image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/breadcrumb ./cmd/breadcrumb \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/breadcrumb /usr/local/bin/breadcrumb
COPY --from=build /src/LICENSE /src/NOTICE /usr/share/doc/breadcrumb/
# distroless's nonroot user is 65532; it must own the data directory.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
# Listen on every interface inside the container; the data (git
# checkouts, the search index, the embedded incident store and its inbox)
# lives in the /data volume. With BREADCRUMB_REDIS_URL set, incidents and
# the inbox live in Redis instead, and replicas can share it.
ENV BREADCRUMB_LISTEN=0.0.0.0:8080 \
    BREADCRUMB_DATA_DIR=/data/breadcrumb-data
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/breadcrumb"]
CMD ["serve"]
