// MinHash signatures on the GPU, by two algorithms of shingle_hash.hpp (shared with
// the CPU, which replays both in minhash_text_lanes). Short documents, one a lane: each
// lane sketches its own document into its signature row (sketch_row), so a warp walks
// 32 documents at once. Long documents (or more than 256 slots), one a warp: every
// lane walks the same bytes through the same tokenizer, so the warp issues each
// tokenizer instruction once; each lane owns 4 of the sketch's slots, 128 slots per
// pass, and a second walk, taken only when some lane has an empty slot, computes those
// slots' fallback permutations.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "../src/shingle_hash.hpp"
#include "cuda_util.cuh"
#include "driftcore/minhash.hpp"

namespace driftcore {
namespace {

using detail::kLanePerms;
using detail::kPassPerms;
using detail::lane_fallback;
using detail::lane_slots;
using detail::store_lane;
constexpr int kThreads = 256;

using detail::cuda_check;

// One document, one warp: lane `lane` owns slots base + lane + 32 k of each pass.
// `walk(emit)` feeds the document's shingle hashes to emit and returns their count.
template <class Walk>
__device__ void warp_sketch(const Walk& walk, std::uint32_t lane, std::uint32_t num_perm,
                            std::uint64_t seed, std::uint32_t* row) {
  for (std::uint32_t base = 0; base < num_perm; base += kPassPerms) {
    lane_slots s(base + lane, num_perm);
    const std::uint64_t count = walk(s);
    if (count > 0 && __any_sync(0xFFFFFFFFu, s.any_empty())) {
      lane_fallback f(s, seed);
      walk(f);
      store_lane(s, &f, row);
    } else {
      store_lane(s, nullptr, row);
    }
  }
}

// One document, one lane (sketched_by_row): the fallback permutations of every slot
// in shared memory, the empty slots' list in the lane's local memory.
template <class Walk>
__device__ void lane_sketch(const Walk& walk, std::uint32_t num_perm, const std::uint32_t* a,
                            const std::uint32_t* b, std::uint32_t* row) {
  std::uint16_t empty[detail::kRowMaxPerm];
  detail::sketch_row(walk, row, num_perm, a, b, empty);
}

__device__ void row_perms(std::uint64_t seed, std::uint32_t num_perm, std::uint32_t* a,
                          std::uint32_t* b) {
  for (std::uint32_t j = threadIdx.x; j < num_perm; j += blockDim.x)
    detail::perm_params(seed, j, a + j, b + j);
  __syncthreads();
}

__device__ auto text_walk(const std::uint8_t* p, std::size_t len, int unit, std::uint32_t n,
                          bool fold, bool lower) {
  return [=](auto& emit) { return detail::shingle_text(p, len, unit, n, fold, lower, emit); };
}

__device__ auto token_walk(const std::int64_t* ids, std::int64_t begin, std::int64_t end,
                           std::uint32_t n) {
  return [=](auto& emit) {
    detail::unit_window<detail::kMaxShingleUnits> win(n);
    for (std::int64_t i = begin; i < end; ++i)
      win.push(detail::token_hash(static_cast<std::uint64_t>(ids[i])), emit);
    win.finish(emit);
    return win.emitted;
  };
}

// A thread a document: the short ones.
__global__ void text_row_kernel(const std::uint8_t* __restrict__ bytes,
                                const std::int64_t* __restrict__ offsets, std::size_t n_docs,
                                int unit, std::uint32_t n, bool fold, bool lower,
                                std::uint32_t num_perm, std::uint64_t seed,
                                std::uint32_t* __restrict__ sig) {
  __shared__ std::uint32_t a[detail::kRowMaxPerm], b[detail::kRowMaxPerm];
  row_perms(seed, num_perm, a, b);
  const std::size_t doc = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (doc >= n_docs) return;
  const auto len = static_cast<std::size_t>(offsets[doc + 1] - offsets[doc]);
  if (detail::sketched_by_row(len, num_perm))
    lane_sketch(text_walk(bytes + offsets[doc], len, unit, n, fold, lower), num_perm, a, b,
                sig + doc * num_perm);
}

__global__ void token_row_kernel(const std::int64_t* __restrict__ ids,
                                 const std::int64_t* __restrict__ offsets, std::size_t n_docs,
                                 std::uint32_t n, std::uint32_t num_perm, std::uint64_t seed,
                                 std::uint32_t* __restrict__ sig) {
  __shared__ std::uint32_t a[detail::kRowMaxPerm], b[detail::kRowMaxPerm];
  row_perms(seed, num_perm, a, b);
  const std::size_t doc = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (doc >= n_docs) return;
  const std::int64_t begin = offsets[doc], end = offsets[doc + 1];
  if (detail::sketched_by_row(static_cast<std::size_t>(end - begin), num_perm))
    lane_sketch(token_walk(ids, begin, end, n), num_perm, a, b, sig + doc * num_perm);
}

// A warp a document: the long ones. Warps take documents in turn (warp w: w, w +
// warps, ...), the whole warp going round together.
__global__ void text_kernel(const std::uint8_t* __restrict__ bytes,
                            const std::int64_t* __restrict__ offsets, std::size_t n_docs, int unit,
                            std::uint32_t n, bool fold, bool lower, std::uint32_t num_perm,
                            std::uint64_t seed, std::uint32_t* __restrict__ sig) {
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * blockDim.x / 32;
  for (std::size_t doc = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
       doc < n_docs; doc += warps) {
    const auto len = static_cast<std::size_t>(offsets[doc + 1] - offsets[doc]);
    if (!detail::sketched_by_row(len, num_perm))
      warp_sketch(text_walk(bytes + offsets[doc], len, unit, n, fold, lower), threadIdx.x & 31,
                  num_perm, seed, sig + doc * num_perm);
  }
}

__global__ void token_kernel(const std::int64_t* __restrict__ ids,
                             const std::int64_t* __restrict__ offsets, std::size_t n_docs,
                             std::uint32_t n, std::uint32_t num_perm, std::uint64_t seed,
                             std::uint32_t* __restrict__ sig) {
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * blockDim.x / 32;
  for (std::size_t doc = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
       doc < n_docs; doc += warps) {
    const std::int64_t begin = offsets[doc], end = offsets[doc + 1];
    if (!detail::sketched_by_row(static_cast<std::size_t>(end - begin), num_perm))
      warp_sketch(token_walk(ids, begin, end, n), threadIdx.x & 31, num_perm, seed,
                  sig + doc * num_perm);
  }
}

unsigned row_blocks(std::size_t n_docs) {
  return static_cast<unsigned>((n_docs + kThreads - 1) / kThreads);
}

// Enough warps to fill the card, at most one a document.
unsigned warp_blocks(std::size_t n_docs) {
  const int sms = detail::device_attribute(cudaDevAttrMultiProcessorCount);
  const std::size_t most = (n_docs * 32 + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::min<std::size_t>(most, std::size_t(sms) * 16));
}

}  // namespace

void minhash_text_device(const std::uint8_t* bytes, const std::int64_t* offsets, std::size_t n_docs,
                         const minhash_spec& spec, std::uint32_t* signatures,
                         std::uintptr_t stream) {
  check_spec(spec);
  if (spec.unit == shingle_unit::token)
    throw invalid_input("text needs word or character shingles");
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  const int unit = spec.unit == shingle_unit::word ? 0 : 1;
  detail::clear_launch_error();
  if (spec.num_perm <= detail::kRowMaxPerm)
    text_row_kernel<<<row_blocks(n_docs), kThreads, 0, s>>>(
        bytes, offsets, n_docs, unit, spec.n, spec.fold_punctuation, spec.lowercase_ascii,
        spec.num_perm, spec.seed, signatures);
  text_kernel<<<warp_blocks(n_docs), kThreads, 0, s>>>(bytes, offsets, n_docs, unit, spec.n,
                                                       spec.fold_punctuation, spec.lowercase_ascii,
                                                       spec.num_perm, spec.seed, signatures);
  cuda_check(cudaGetLastError(), "minhash text kernel launch");
  // Waited for, so that a fault is reported by this call, not by a later one.
  cuda_check(cudaStreamSynchronize(s), "minhash text kernel");
}

void minhash_tokens_device(const std::int64_t* ids, const std::int64_t* offsets, std::size_t n_docs,
                           const minhash_spec& spec, std::uint32_t* signatures,
                           std::uintptr_t stream) {
  check_spec(spec);
  if (n_docs == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  detail::clear_launch_error();
  if (spec.num_perm <= detail::kRowMaxPerm)
    token_row_kernel<<<row_blocks(n_docs), kThreads, 0, s>>>(ids, offsets, n_docs, spec.n,
                                                             spec.num_perm, spec.seed, signatures);
  token_kernel<<<warp_blocks(n_docs), kThreads, 0, s>>>(ids, offsets, n_docs, spec.n, spec.num_perm,
                                                        spec.seed, signatures);
  cuda_check(cudaGetLastError(), "minhash token kernel launch");
  cuda_check(cudaStreamSynchronize(s), "minhash token kernel");
}

}  // namespace driftcore
