#include "generate/rng.h"

#include <cmath>

namespace vesta::generate {

namespace {

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& s : s_) s = SplitMix(x);
}

uint64_t Rng::Mix(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t x = seed;
  uint64_t h = SplitMix(x);
  x = h ^ (a * 0xD1B54A32D192ED03ULL);
  h = SplitMix(x);
  x = h ^ (b * 0x8CB92BA72F3D8DD7ULL);
  return SplitMix(x);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019). The rejection loop ends with
  // probability 1; bound it anyway and accept the tiny bias after 64 tries.
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    for (int i = 0; i < 64 && low < threshold; ++i) {
      m = static_cast<unsigned __int128>(Next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int Rng::Range(int lo, int hi) {
  return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo) + 1));
}

double Rng::Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Rng::Normal(double mean, double sd) {
  for (int i = 0; i < 64; ++i) {
    const double u = 2.0 * Real() - 1.0;
    const double v = 2.0 * Real() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return mean + sd * u * std::sqrt(-2.0 * std::log(s) / s);
  }
  return mean;
}

double Rng::Clamped(double mean, double sd, double lo, double hi) {
  const double x = Normal(mean, sd);
  return x < lo ? lo : (x > hi ? hi : x);
}

size_t Rng::Weighted(std::span<const double> weights) {
  double total = 0;
  for (double w : weights) total += w;
  double r = Real() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

double Rng::Exponential(double mean) { return -mean * std::log(1.0 - Real()); }

void Rng::Uuid(char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = (Next() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  uint64_t b = (Next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[pos++] = '-';
    const uint64_t word = i < 16 ? a : b;
    out[pos++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xF];
  }
}

}  // namespace vesta::generate
