// MinHash signatures on the GPU: one warp per document. Every lane walks the same
// bytes through the same tokenizer (shingle_hash.hpp, shared with the CPU), so the
// warp issues each tokenizer instruction once; each lane owns 4 of the sketch's slots,
// 128 slots per pass. A second walk, taken only when some lane has an empty slot,
// computes those slots' fallback permutations.
#include <cuda_runtime.h>

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

__global__ void text_kernel(const std::uint8_t* __restrict__ bytes,
                            const std::int64_t* __restrict__ offsets, std::size_t n_docs, int unit,
                            std::uint32_t n, bool fold, bool lower, std::uint32_t num_perm,
                            std::uint64_t seed, std::uint32_t* __restrict__ sig) {
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
      store_lane(s, &f, sig + doc * num_perm);
    } else {
      store_lane(s, nullptr, sig + doc * num_perm);
    }
  }
}

__global__ void token_kernel(const std::int64_t* __restrict__ ids,
                             const std::int64_t* __restrict__ offsets, std::size_t n_docs,
                             std::uint32_t n, std::uint32_t num_perm, std::uint64_t seed,
                             std::uint32_t* __restrict__ sig) {
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
      store_lane(s, &f, sig + doc * num_perm);
    } else {
      store_lane(s, nullptr, sig + doc * num_perm);
    }
  }
}

unsigned blocks_for(std::size_t n_docs) {
  return static_cast<unsigned>((n_docs * 32 + kThreads - 1) / kThreads);
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
  detail::clear_launch_error();
  text_kernel<<<blocks_for(n_docs), kThreads, 0, s>>>(
      bytes, offsets, n_docs, spec.unit == shingle_unit::word ? 0 : 1, spec.n,
      spec.fold_punctuation, spec.lowercase_ascii, spec.num_perm, spec.seed, signatures);
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
  token_kernel<<<blocks_for(n_docs), kThreads, 0, s>>>(ids, offsets, n_docs, spec.n, spec.num_perm,
                                                       spec.seed, signatures);
  cuda_check(cudaGetLastError(), "minhash token kernel launch");
  cuda_check(cudaStreamSynchronize(s), "minhash token kernel");
}

}  // namespace driftcore
