// A small, seeded pseudo-random generator whose output is fixed by this file alone.
//
// The population generator must give byte-identical output for the same seed on every machine
// and library version, so it never uses std::uniform_*_distribution or std::normal_distribution
// (their algorithms are left to the standard library). xoshiro256** (https://prng.di.unimi.it/)
// seeded through splitmix64 gives the raw bits; every derived draw (integers, reals, normals) is
// computed here with arithmetic whose result IEEE 754 fixes.
//
//   Rng rng(Rng::Mix(seed, patient_index));
//   int age = rng.Range(0, 99);
//   double sbp = rng.Normal(120.0, 12.0);
//
// Not thread-safe: give each thread (or each patient) its own Rng.
#pragma once

#include <cstdint>
#include <span>

namespace vesta::generate {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // A stream key derived from a seed and up to two numbers (splitmix64 finalizer chain), so that
  // every patient, and every kind of draw within a patient, gets an independent stream.
  static uint64_t Mix(uint64_t seed, uint64_t a, uint64_t b = 0);

  uint64_t Next();
  // Uniform in [0, n). REQUIRES: n > 0. Lemire's multiply-shift, unbiased by rejection.
  uint64_t Below(uint64_t n);
  // Uniform integer in [lo, hi]. REQUIRES: lo <= hi.
  int Range(int lo, int hi);
  // Uniform in [0, 1), 53 bits.
  double Real();
  bool Chance(double p) { return Real() < p; }
  // A normal draw (Marsaglia's polar method; needs only sqrt and log, both correctly rounded or
  // deterministic in glibc). Bounded: gives up after 64 rejections and returns the mean.
  double Normal(double mean, double sd);
  // Normal clamped to [lo, hi].
  double Clamped(double mean, double sd, double lo, double hi);
  // An index drawn with the given non-negative weights. REQUIRES: a positive sum.
  size_t Weighted(std::span<const double> weights);
  // Exponential with the given mean (waiting times).
  double Exponential(double mean);
  // A version-4 UUID in lower-case text. `out` must hold 36 characters.
  void Uuid(char* out);

 private:
  uint64_t s_[4];
};

}  // namespace vesta::generate
