# syntax=docker/dockerfile:1
# check=error=true
#
# vitseg images, one per runtime target:
#
#   docker build --target cpu  -t vitseg:0.1.0-cpu  .
#   docker build --target cuda -t vitseg:0.1.0-cuda .
#
# Both run `vitseg serve` by default (ENTRYPOINT vitseg, CMD serve) as the
# non-root user 65532, with the ONNX Runtime library at $VITSEG_ORT_LIB and the
# shipped default model at /opt/vitseg/models/small/model.onnx. There is no
# HEALTHCHECK: Kubernetes ignores it. Probe the http port instead (the chart
# does): liveness GET /healthz, readiness GET /readyz, metrics GET /metrics, all
# on --http-addr (:8080).
#
# The ONNX Runtime pins below must equal scripts/versions.env (the single
# source of truth for the CPU library; scripts/check-deploy.sh fails when they
# differ). The CPU library is fetched exactly as scripts/setup.sh does: npm pack
# of onnxruntime-node, package and library sha256 verified.

ARG GO_IMAGE=golang:1.26.8-bookworm
ARG NODE_IMAGE=node:24-bookworm-slim
ARG CPU_BASE_IMAGE=debian:bookworm-slim
# The CUDA provider of ONNX Runtime 1.29 links CUDA 13 (libcudart.so.13,
# libcublas.so.13) and loads cuDNN 9; it needs an NVIDIA driver >= 580 on the
# node.
ARG CUDA_BASE_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ONNX Runtime CPU library (same values as scripts/versions.env).
ARG ORT_VERSION=1.30.0
ARG ORT_NPM_PACKAGE=onnxruntime-node
ARG ORT_NPM_TGZ_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ARG ORT_NPM_LIB_PATH=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ARG ORT_LIB_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

# ONNX Runtime GPU build, from the npm packages of the ONNX Runtime Unity
# plugin: the core library (a build with the provider bridge) comes from
# com.github.asus4.onnxruntime, the CUDA execution provider and the provider
# bridge from com.github.asus4.onnxruntime.linux-x64-gpu. Both packages at
# version 0.4.9 carry ONNX Runtime 1.29.0 (the GPU package ships no core
# library of its own, and the two must come from the same ONNX Runtime release).
ARG ORT_GPU_VERSION=1.29.0
ARG ORT_GPU_NPM_PACKAGE=com.github.asus4.onnxruntime
ARG ORT_GPU_NPM_VERSION=0.4.9
ARG ORT_GPU_NPM_TGZ_SHA256=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
ARG ORT_GPU_NPM_LIB_PATH=package/Plugins/Linux/x64/libonnxruntime.so
ARG ORT_GPU_LIB_SHA256=5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca
ARG ORT_GPU_PROVIDERS_NPM_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu
ARG ORT_GPU_PROVIDERS_NPM_VERSION=0.4.9
ARG ORT_GPU_PROVIDERS_NPM_TGZ_SHA256=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412
ARG ORT_GPU_PROVIDERS_NPM_DIR=package/Plugins/Linux/x64
ARG ORT_GPU_PROVIDERS_CUDA_SHA256=56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
ARG ORT_GPU_PROVIDERS_SHARED_SHA256=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772

# Image metadata, set by the release build.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

# ---------------------------------------------------------------------------
# The vitseg binary: cgo, build tag onnx (ONNX Runtime is loaded at run time),
# linked against libjpeg-turbo's TurboJPEG (libturbojpeg.so.0 at run time).
FROM ${GO_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libturbojpeg0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -tags onnx -trimpath -o /out/vitseg ./cmd/vitseg

# ---------------------------------------------------------------------------
# ONNX Runtime CPU library, fetched as scripts/setup.sh does.
FROM ${NODE_IMAGE} AS ort-cpu
ARG ORT_VERSION
ARG ORT_NPM_PACKAGE
ARG ORT_NPM_TGZ_SHA256
ARG ORT_NPM_LIB_PATH
ARG ORT_LIB_SHA256
WORKDIR /fetch
RUN npm pack --silent "${ORT_NPM_PACKAGE}@${ORT_VERSION}" >/dev/null \
 && echo "${ORT_NPM_TGZ_SHA256}  ${ORT_NPM_PACKAGE}-${ORT_VERSION}.tgz" | sha256sum -c - \
 && tar -xzf "${ORT_NPM_PACKAGE}-${ORT_VERSION}.tgz" "${ORT_NPM_LIB_PATH}" \
 && echo "${ORT_LIB_SHA256}  ${ORT_NPM_LIB_PATH}" | sha256sum -c - \
 && install -D -m 0755 "${ORT_NPM_LIB_PATH}" /out/lib/libonnxruntime.so.1

# ---------------------------------------------------------------------------
# ONNX Runtime GPU library and its CUDA execution provider. ONNX Runtime loads
# the provider libraries from the directory of libonnxruntime.so.
FROM ${NODE_IMAGE} AS ort-cuda
ARG ORT_GPU_NPM_PACKAGE
ARG ORT_GPU_NPM_VERSION
ARG ORT_GPU_NPM_TGZ_SHA256
ARG ORT_GPU_NPM_LIB_PATH
ARG ORT_GPU_LIB_SHA256
ARG ORT_GPU_PROVIDERS_NPM_PACKAGE
ARG ORT_GPU_PROVIDERS_NPM_VERSION
ARG ORT_GPU_PROVIDERS_NPM_TGZ_SHA256
ARG ORT_GPU_PROVIDERS_NPM_DIR
ARG ORT_GPU_PROVIDERS_CUDA_SHA256
ARG ORT_GPU_PROVIDERS_SHARED_SHA256
WORKDIR /fetch
RUN npm pack --silent "${ORT_GPU_NPM_PACKAGE}@${ORT_GPU_NPM_VERSION}" >/dev/null \
 && echo "${ORT_GPU_NPM_TGZ_SHA256}  ${ORT_GPU_NPM_PACKAGE}-${ORT_GPU_NPM_VERSION}.tgz" | sha256sum -c - \
 && mkdir core \
 && tar -xzf "${ORT_GPU_NPM_PACKAGE}-${ORT_GPU_NPM_VERSION}.tgz" -C core "${ORT_GPU_NPM_LIB_PATH}" \
 && echo "${ORT_GPU_LIB_SHA256}  core/${ORT_GPU_NPM_LIB_PATH}" | sha256sum -c - \
 && npm pack --silent "${ORT_GPU_PROVIDERS_NPM_PACKAGE}@${ORT_GPU_PROVIDERS_NPM_VERSION}" >/dev/null \
 && echo "${ORT_GPU_PROVIDERS_NPM_TGZ_SHA256}  ${ORT_GPU_PROVIDERS_NPM_PACKAGE}-${ORT_GPU_PROVIDERS_NPM_VERSION}.tgz" | sha256sum -c - \
 && mkdir providers \
 && tar -xzf "${ORT_GPU_PROVIDERS_NPM_PACKAGE}-${ORT_GPU_PROVIDERS_NPM_VERSION}.tgz" -C providers \
      "${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_cuda.so" \
      "${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_shared.so" \
 && echo "${ORT_GPU_PROVIDERS_CUDA_SHA256}  providers/${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_cuda.so" | sha256sum -c - \
 && echo "${ORT_GPU_PROVIDERS_SHARED_SHA256}  providers/${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_shared.so" | sha256sum -c - \
 && install -D -m 0755 "core/${ORT_GPU_NPM_LIB_PATH}" /out/lib/libonnxruntime.so.1 \
 && install -m 0755 "providers/${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_cuda.so" \
      "providers/${ORT_GPU_PROVIDERS_NPM_DIR}/libonnxruntime_providers_shared.so" /out/lib/

# ---------------------------------------------------------------------------
# Runtime: CUDA (CUDA 13 runtime and cuDNN 9 from the base image).
FROM ${CUDA_BASE_IMAGE} AS cuda
ARG VERSION
ARG REVISION
ARG CREATED
ARG ORT_GPU_VERSION
# Ubuntu names the TurboJPEG runtime libturbojpeg (Debian: libturbojpeg0).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 libturbojpeg \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin nonroot
COPY --from=build /out/vitseg /usr/local/bin/vitseg
COPY --from=ort-cuda /out/lib/ /opt/vitseg/lib/
COPY model/zoo/small/model.onnx /opt/vitseg/models/small/model.onnx
ENV VITSEG_ORT_LIB=/opt/vitseg/lib/libonnxruntime.so.1 \
    VITSEG_CACHE=/tmp/vitseg-cache \
    HOME=/tmp \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
LABEL org.opencontainers.image.title="vitseg" \
      org.opencontainers.image.description="Pet photo segmentation (ViT) stream processor: Kafka -> S3 -> ONNX Runtime (CUDA)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/vitseg/vitseg" \
      org.opencontainers.image.vendor="vitseg" \
      io.vitseg.onnxruntime.version="${ORT_GPU_VERSION}" \
      io.vitseg.device="cuda"
WORKDIR /tmp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["vitseg"]
CMD ["serve"]

# ---------------------------------------------------------------------------
# Runtime: CPU (the last stage, so the default target).
FROM ${CPU_BASE_IMAGE} AS cpu
ARG VERSION
ARG REVISION
ARG CREATED
ARG ORT_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 libturbojpeg0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin nonroot
COPY --from=build /out/vitseg /usr/local/bin/vitseg
COPY --from=ort-cpu /out/lib/ /opt/vitseg/lib/
COPY model/zoo/small/model.onnx /opt/vitseg/models/small/model.onnx
ENV VITSEG_ORT_LIB=/opt/vitseg/lib/libonnxruntime.so.1 \
    VITSEG_CACHE=/tmp/vitseg-cache \
    HOME=/tmp
LABEL org.opencontainers.image.title="vitseg" \
      org.opencontainers.image.description="Pet photo segmentation (ViT) stream processor: Kafka -> S3 -> ONNX Runtime (CPU)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/vitseg/vitseg" \
      org.opencontainers.image.vendor="vitseg" \
      io.vitseg.onnxruntime.version="${ORT_VERSION}" \
      io.vitseg.device="cpu"
WORKDIR /tmp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["vitseg"]
CMD ["serve"]
