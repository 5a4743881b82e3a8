// The on-disk model store, laid out like Ollama's:
//
//     <root>/blobs/sha256-<hex>                       content-addressed, immutable
//     <root>/manifests/<host>/<ns>/<model>/<tag>      Docker/OCI-style JSON manifest
//
// <root> is $LOKAL_MODELS, else ~/.lokal/models. Nothing in the store is ever half-written:
// blobs are written to a temporary file inside blobs/, flushed, verified and renamed into place;
// manifests likewise, and only after every blob they name is present. A blob that two processes
// fetch at once is written by one of them under an flock on its partial file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/reference.h"

namespace lokal::store {

namespace media {
inline constexpr const char* kManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kModel = "application/vnd.ollama.image.model";
inline constexpr const char* kTemplate = "application/vnd.ollama.image.template";
inline constexpr const char* kSystem = "application/vnd.ollama.image.system";
inline constexpr const char* kParams = "application/vnd.ollama.image.params";
inline constexpr const char* kLicense = "application/vnd.ollama.image.license";
inline constexpr const char* kMessages = "application/vnd.ollama.image.messages";
inline constexpr const char* kAdapter = "application/vnd.ollama.image.adapter";
inline constexpr const char* kProjector = "application/vnd.ollama.image.projector";
// A Modelfile's DRAFT: the draft model's GGUF, stored with the model that it guesses for.
inline constexpr const char* kDraft = "application/vnd.lokal.image.draft";
}  // namespace media

struct Layer {
    std::string media_type;
    std::string digest;  // sha256:<hex>
    uint64_t size = 0;
};

struct Manifest {
    int schema_version = 2;
    std::string media_type = media::kManifest;
    std::optional<Layer> config;
    std::vector<Layer> layers;

    // Every blob, config first.
    std::vector<Layer> blobs() const;
    uint64_t total_size() const;
    // The first layer of this media type, or nullptr.
    const Layer* find(std::string_view type) const;

    std::string to_json() const;
    // Throws lokal::Error on malformed JSON, a bad digest or a missing field.
    static Manifest parse(std::string_view json);
};

struct ListEntry {
    ModelRef ref;
    std::string id;      // first 12 hex digits of the manifest's sha256 (`lokal list`'s ID)
    std::string digest;  // all 64 (the API's `digest`, as Ollama reports it)
    uint64_t size = 0;
    std::filesystem::file_time_type modified;
    Manifest manifest;
};

class Store {
  public:
    explicit Store(std::filesystem::path root);
    // $LOKAL_MODELS, else $HOME/.lokal/models.
    static Store open_default();
    static std::filesystem::path default_root();

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path blobs_dir() const { return root_ / "blobs"; }
    // blobs/sha256-<hex>; throws lokal::Error for a malformed digest.
    std::filesystem::path blob_path(std::string_view digest) const;
    bool has_blob(std::string_view digest) const;
    std::filesystem::path manifest_path(const ModelRef& ref) const;

    // nullopt when the model is not in the store.
    std::optional<Manifest> read_manifest(const ModelRef& ref) const;
    // The manifest's exact bytes (the id hashes them).
    std::optional<std::string> read_manifest_bytes(const ModelRef& ref) const;
    // Writes atomically. Every blob the manifest names must already be in the store. The blobs
    // of a manifest it replaces that no manifest references any more are removed.
    void write_manifest(const ModelRef& ref, std::string_view json);

    // Stores `data` as a blob (atomically; a no-op when present) and returns its layer.
    Layer put_blob(std::string_view media_type, std::string_view data);
    // Imports a file as a blob: hashed, then cloned (reflink) or copied into the store.
    Layer import_file(std::string_view media_type, const std::string& path);
    // Moves a finished temporary file (inside blobs/) into place as the blob `digest`, after
    // flushing it. The caller has verified its contents.
    void commit_blob(const std::filesystem::path& tmp, std::string_view digest);

    // Every model, newest first. Unreadable or malformed manifests are skipped.
    std::vector<ListEntry> list() const;
    // Removes the manifest and every blob no other manifest references. False when absent.
    bool remove(const ModelRef& ref);
    // Copies a manifest under a new name (the blobs are shared). Throws when src is absent.
    void copy(const ModelRef& src, const ModelRef& dst);

    // Removes those of `blobs` that no manifest references (what a failed pull added).
    void remove_unreferenced(const std::vector<Layer>& blobs);

    // A fresh temporary path inside blobs/ (not yet created).
    std::filesystem::path temp_path(std::string_view hint) const;

  private:
    // Deletes those of `gone`'s blobs that no manifest in the store references.
    void remove_unreferenced_blobs(const Manifest& gone);

    std::filesystem::path root_;
};

// Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename,
// fsync of the directory. Throws lokal::Error (with a clear message when the disk is full).
void write_file_atomic(const std::filesystem::path& path, std::string_view data);
// fsync a directory (after a rename into it).
void sync_dir(const std::filesystem::path& dir);

}  // namespace lokal::store
