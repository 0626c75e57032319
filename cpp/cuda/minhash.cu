// MinHash signatures on the GPU: one warp per document. Every lane walks the same
// bytes through the same tokenizer (shingle_hash.hpp, shared with the CPU), so the
// warp issues each tokenizer instruction once; each lane owns 4 of the sketch's slots,
// 128 slots per pass. A second walk, taken only when some lane has an empty slot,
// computes those slots' fallback permutations.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "../src/shingle_hash.hpp"
#include "driftcore/minhash.hpp"

namespace driftcore {
namespace {

constexpr int kLanePerms = 4;
constexpr std::uint32_t kPassPerms = 32 * kLanePerms;
constexpr int kThreads = 256;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}

// The slots lane `lane` owns in the pass starting at slot `base`: base + lane + 32 k.
struct lane_slots {
  std::uint32_t first, slots;
  std::uint32_t lo[kLanePerms];
  __device__ lane_slots(std::uint32_t first_, std::uint32_t slots_) : first(first_), slots(slots_) {
    for (int k = 0; k < kLanePerms; ++k) lo[k] = detail::kEmptySlot;
  }
  __device__ bool owns(int k) const { return first + 32 * k < slots; }
  __device__ void operator()(std::uint64_t h) {
    const std::uint32_t j = detail::slot_of(h, slots), r = detail::rank_of(h);
    for (int k = 0; k < kLanePerms; ++k)
      if (j == first + 32 * k && r < lo[k]) lo[k] = r;
  }
  __device__ bool any_empty() const {
    bool e = false;
    for (int k = 0; k < kLanePerms; ++k) e |= owns(k) && lo[k] == detail::kEmptySlot;
    return e;
  }
};

// Fallback permutations of the empty slots a lane owns.
struct lane_fallback {
  std::uint32_t a[kLanePerms], b[kLanePerms], lo[kLanePerms];
  bool on[kLanePerms];
  __device__ lane_fallback(const lane_slots& s, std::uint64_t seed) {
    for (int k = 0; k < kLanePerms; ++k) {
      on[k] = s.owns(k) && s.lo[k] == detail::kEmptySlot;
      a[k] = b[k] = 0;
      if (on[k]) detail::perm_params(seed, s.first + 32 * k, &a[k], &b[k]);
      lo[k] = detail::kEmptySlot;
    }
  }
  __device__ void operator()(std::uint64_t h) {
    const std::uint32_t x = detail::shingle_key(h);
    for (int k = 0; k < kLanePerms; ++k) {
      const std::uint32_t v = a[k] * x + b[k];
      if (on[k] && v < lo[k]) lo[k] = v;
    }
  }
};

__device__ void store(const lane_slots& s, const lane_fallback* f, std::uint32_t* row) {
  for (int k = 0; k < kLanePerms; ++k) {
    if (!s.owns(k)) continue;
    const bool fell = f && f->on[k];
    row[s.first + 32 * k] = fell ? detail::fallback_value(f->lo[k]) : s.lo[k];
  }
}

__global__ void text_kernel(const std::uint8_t* __restrict__ bytes, const std::int64_t* __restrict__ offsets,
                            std::size_t n_docs, int unit, std::uint32_t n, bool fold, bool lower,
                            std::uint32_t num_perm, std::uint64_t seed, std::uint32_t* __restrict__ sig) {
  const std::size_t doc = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const std::uint32_t lane = threadIdx.x & 31;
  if (doc >= n_docs) return;  // whole warps leave together
  const std::uint8_t* p = bytes + offsets[doc];
  const auto len = static_cast<std::size_t>(offsets[doc + 1] - offsets[doc]);
  for (std::uint32_t base = 0; base < num_perm; base += kPassPerms) {
    lane_slots s(base + lane, num_perm);
    const std::uint64_t count = detail::shingle_text(p, len, unit, n, fold, lower, s);
    if (count > 0 && __any_sync(0xFFFFFFFFu, s.any_empty())) {
      lane_fallback f(s, seed);
      detail::shingle_text(p, len, unit, n, fold, lower, f);
      store(s, &f, sig + doc * num_perm);
    } else {
      store(s, nullptr, sig + doc * num_perm);
    }
  }
}

__global__ void token_kernel(const std::int64_t* __restrict__ ids, const std::int64_t* __restrict__ offsets,
                             std::size_t n_docs, std::uint32_t n, std::uint32_t num_perm,
                             std::uint64_t seed, std::uint32_t* __restrict__ sig) {
  const std::size_t doc = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const std::uint32_t lane = threadIdx.x & 31;
  if (doc >= n_docs) return;
  auto walk = [&](auto& emit) {
    detail::unit_window<detail::kMaxShingleUnits> win(n);
    for (std::int64_t i = offsets[doc]; i < offsets[doc + 1]; ++i)
      win.push(detail::token_hash(static_cast<std::uint64_t>(ids[i])), emit);
    win.finish(emit);
    return win.emitted;
  };
  for (std::uint32_t base = 0; base < num_perm; base += kPassPerms) {
    lane_slots s(base + lane, num_perm);
    const std::uint64_t count = walk(s);
    if (count > 0 && __any_sync(0xFFFFFFFFu, s.any_empty())) {
      lane_fallback f(s, seed);
      walk(f);
      store(s, &f, sig + doc * num_perm);
    } else {
      store(s, nullptr, sig + doc * num_perm);
    }
  }
}

__global__ void band_key_kernel(const std::uint32_t* __restrict__ sig, std::size_t n_docs,
                                std::uint32_t num_perm, std::uint32_t bands, std::uint32_t rows,
                                std::uint64_t* __restrict__ keys) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_docs * bands) return;
  const std::size_t doc = i / bands;
  keys[i] = detail::band_key(sig + doc * num_perm, static_cast<std::uint32_t>(i % bands), rows);
}

unsigned blocks_for(std::size_t n_docs) {
  return static_cast<unsigned>((n_docs * 32 + kThreads - 1) / kThreads);
}

}  // namespace

void gpu_minhash_text(const std::uint8_t* bytes, const std::int64_t* offsets, std::size_t n_docs,
                      const minhash_spec& spec, std::uint32_t* signatures, std::uintptr_t stream) {
  check_spec(spec);
  if (spec.unit == shingle_unit::token) throw invalid_input("text needs word or character shingles");
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  text_kernel<<<blocks_for(n_docs), kThreads, 0, s>>>(bytes, offsets, n_docs,
                                                     spec.unit == shingle_unit::word ? 0 : 1, spec.n,
                                                     spec.fold_punctuation, spec.lowercase_ascii,
                                                     spec.num_perm, spec.seed,
                                                     signatures);
  check(cudaGetLastError(), "minhash text kernel launch");
}

void gpu_minhash_tokens(const std::int64_t* ids, const std::int64_t* offsets, std::size_t n_docs,
                        const minhash_spec& spec, std::uint32_t* signatures, std::uintptr_t stream) {
  check_spec(spec);
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  token_kernel<<<blocks_for(n_docs), kThreads, 0, s>>>(ids, offsets, n_docs, spec.n, spec.num_perm,
                                                      spec.seed, signatures);
  check(cudaGetLastError(), "minhash token kernel launch");
}

void gpu_band_keys(const std::uint32_t* signatures, std::size_t n_docs, std::uint32_t num_perm,
                   std::uint32_t bands, std::uint32_t rows, std::uint64_t* keys, std::uintptr_t stream) {
  if (bands == 0 || rows == 0 || static_cast<std::uint64_t>(bands) * rows > num_perm)
    throw invalid_input("bands x rows must be between 1 and num_perm");
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  const std::size_t total = n_docs * bands;
  band_key_kernel<<<static_cast<unsigned>((total + kThreads - 1) / kThreads), kThreads, 0, s>>>(
      signatures, n_docs, num_perm, bands, rows, keys);
  check(cudaGetLastError(), "band key kernel launch");
}

}  // namespace driftcore
