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
# The ONNX Runtime pins below must equal internal/host/runtimepaths/versions.env
# (the single source of truth, embedded in the binary; scripts/check-deploy.sh
# fails when they differ). Both images use the same ONNX Runtime core, fetched
# exactly as scripts/setup.sh does (npm pack of onnxruntime-node, package and
# library sha256 verified); the cuda image adds the CUDA execution provider
# next to it, as `scripts/setup.sh cuda` does.

ARG GO_IMAGE=golang:1.26.8-bookworm
ARG NODE_IMAGE=node:24-bookworm-slim
ARG CPU_BASE_IMAGE=debian:bookworm-slim
# The CUDA provider of ONNX Runtime 1.29 links CUDA 13 (libcudart.so.13,
# libcublas.so.13, libcublasLt.so.13, libcurand.so.10) and loads cuDNN 9; the
# node needs an NVIDIA driver >= 580 (libcuda.so.1 comes from the driver, put
# into the container by the NVIDIA container toolkit).
ARG CUDA_BASE_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ONNX Runtime core (same values as internal/host/runtimepaths/versions.env): a
# build with the CUDA provider bridge, used by both images.
ARG ORT_VERSION=1.29.0
ARG ORT_NPM_PACKAGE=onnxruntime-node
ARG ORT_NPM_TGZ_SHA256=cfdfb45ec4044b1fdca43e5d2e180fb6817e649ff8ad1e0dfc90e18e51b67037
ARG ORT_NPM_LIB_PATH=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ARG ORT_LIB_SHA256=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d

# Its CUDA execution provider and provider bridge (same release, git commit
# 2e2543fbe9), from the npm package of the ONNX Runtime Unity plugin (same
# values as internal/host/runtimepaths/versions.env). The package's own core is not
# used.
ARG ORT_CUDA_NPM_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu
ARG ORT_CUDA_NPM_VERSION=0.4.9
ARG ORT_CUDA_NPM_TGZ_SHA256=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412
ARG ORT_CUDA_NPM_DIR=package/Plugins/Linux/x64
ARG ORT_CUDA_PROVIDER_SHA256=56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
ARG ORT_CUDA_SHARED_SHA256=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772

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
# ONNX Runtime core library, fetched as scripts/setup.sh does.
FROM ${NODE_IMAGE} AS ort
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
 && install -D -m 0755 "${ORT_NPM_LIB_PATH}" /out/lib/libonnxruntime.so.1 \
 && rm -f ./*.tgz

# ---------------------------------------------------------------------------
# The same core plus its CUDA execution provider, fetched as
# `scripts/setup.sh cuda` does. The core loads the provider libraries from its
# own directory.
FROM ort AS ort-cuda
ARG ORT_CUDA_NPM_PACKAGE
ARG ORT_CUDA_NPM_VERSION
ARG ORT_CUDA_NPM_TGZ_SHA256
ARG ORT_CUDA_NPM_DIR
ARG ORT_CUDA_PROVIDER_SHA256
ARG ORT_CUDA_SHARED_SHA256
RUN npm pack --silent "${ORT_CUDA_NPM_PACKAGE}@${ORT_CUDA_NPM_VERSION}" >/dev/null \
 && echo "${ORT_CUDA_NPM_TGZ_SHA256}  ${ORT_CUDA_NPM_PACKAGE}-${ORT_CUDA_NPM_VERSION}.tgz" | sha256sum -c - \
 && tar -xzf "${ORT_CUDA_NPM_PACKAGE}-${ORT_CUDA_NPM_VERSION}.tgz" \
      "${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_cuda.so" \
      "${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_shared.so" \
 && echo "${ORT_CUDA_PROVIDER_SHA256}  ${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_cuda.so" | sha256sum -c - \
 && echo "${ORT_CUDA_SHARED_SHA256}  ${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_shared.so" | sha256sum -c - \
 && install -m 0755 "${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_cuda.so" \
      "${ORT_CUDA_NPM_DIR}/libonnxruntime_providers_shared.so" /out/lib/ \
 && rm -rf ./*.tgz package

# ---------------------------------------------------------------------------
# Runtime: CUDA (CUDA 13 runtime and cuDNN 9 from the base image).
FROM ${CUDA_BASE_IMAGE} AS cuda
ARG VERSION
ARG REVISION
ARG CREATED
ARG ORT_VERSION
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
    VITSEG_DEVICE=cuda \
    HOME=/tmp \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# Build-time smoke: the build machine has no GPU and no driver (libcuda.so.1
# arrives with the NVIDIA container toolkit at run time), so doctor exits 1
# here; it must still load ONNX Runtime's CPU provider and find the provider
# files and every CUDA 13 / cuDNN 9 library of the base image.
RUN vitseg doctor >/tmp/doctor.txt 2>&1; cat /tmp/doctor.txt \
 && grep -q 'CPUExecutionProvider: loads' /tmp/doctor.txt \
 && ! grep -E '^  (libonnxruntime_providers|libcudart|libcublas|libcurand|libcudnn)[^:]*: NO' /tmp/doctor.txt \
 && rm -f /tmp/doctor.txt
LABEL org.opencontainers.image.title="vitseg" \
      org.opencontainers.image.description="Pet photo segmentation (ViT) stream processor: Kafka -> S3 -> ONNX Runtime (CUDA)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/vitseg/vitseg" \
      org.opencontainers.image.vendor="vitseg" \
      io.vitseg.onnxruntime.version="${ORT_VERSION}" \
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
COPY --from=ort /out/lib/ /opt/vitseg/lib/
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
