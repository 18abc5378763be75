# bonafide on Debian 12 (bookworm): the same OpenCV 4.6 and ffmpeg 5.1 the
# README's set-up installs, so the binary is built exactly as on a host.
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopencv-dev libdlib-dev libblas-dev liblapack-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -o /out/bonafide ./cmd/bonafide

FROM debian:bookworm-slim
# gocv links every OpenCV module that `pkg-config opencv4` lists, so the
# runtime needs the libraries libopencv-dev depends on; opencv-data has the
# face cascades and the BRISQUE model; libdlib-data the landmark model;
# ffmpeg decodes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopencv-dev libdlib19.1 libdlib-data ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --create-home bonafide
COPY --from=build /out/bonafide /usr/local/bin/bonafide
USER bonafide
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["bonafide"]
CMD ["serve", "--data", "/data", "--addr", ":8080"]
