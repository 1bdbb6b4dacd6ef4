#include "store/sqlite/audit_blocks.h"

#include <algorithm>
#include <optional>

#include "store/audit_chain.h"

namespace vesta::store::sqlite_internal {
namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The filter's bit positions of `patient`: h1 + i * h2 (Kirsch and Mitzenmacher).
template <typename F>
void ForEachProbe(std::string_view patient, F&& f) {
  const uint64_t h = Fnv1a(patient);
  const uint64_t h1 = h & 0xffffffffu;
  const uint64_t h2 = (h >> 32) | 1;  // odd: the probes differ
  constexpr uint64_t kBits = kAuditBloomBytes * 8;
  for (int i = 0; i < kAuditBloomProbes; ++i) {
    f(static_cast<size_t>((h1 + static_cast<uint64_t>(i) * h2) % kBits));
  }
}

struct Summary {
  Micros first = 0;
  Micros last = 0;
  std::optional<std::string> filter;  // none: a block of records appended before the filters
};

}  // namespace

void AuditBloomAdd(std::string& filter, std::string_view patient) {
  ForEachProbe(patient, [&](size_t bit) {
    filter[bit / 8] =
        static_cast<char>(static_cast<unsigned char>(filter[bit / 8]) | (1u << (bit % 8)));
  });
}

bool AuditBloomMayHold(std::string_view filter, std::string_view patient) {
  if (filter.size() != kAuditBloomBytes) return true;
  bool all = true;
  ForEachProbe(patient, [&](size_t bit) {
    if ((static_cast<unsigned char>(filter[bit / 8]) & (1u << (bit % 8))) == 0) all = false;
  });
  return all;
}

Status UpdateAuditBlocks(sqlite::Connection& db, int64_t first_seq,
                         std::span<const AuditAppend> records) {
  ASSIGN_OR_RETURN(sqlite::Statement read,
                   db.Prepare("SELECT first_recorded, last_recorded, patients FROM audit_block"
                              " WHERE block = ?1"));
  ASSIGN_OR_RETURN(sqlite::Statement write,
                   db.Prepare("INSERT OR REPLACE INTO audit_block"
                              " (block, first_recorded, last_recorded, patients)"
                              " VALUES (?1, ?2, ?3, ?4)"));
  size_t i = 0;
  while (i < records.size()) {
    const int64_t block = (first_seq + static_cast<int64_t>(i)) >> kAuditBlockBits;
    Summary s;
    read.Reset();
    read.Bind(1, block);
    ASSIGN_OR_RETURN(bool row, read.Step());
    if (row) {
      s.first = read.Int(0);
      s.last = read.Int(1);
      if (!read.IsNull(2)) s.filter = read.Text(2);
    } else {
      s.first = records[i].recorded;
      s.last = records[i].recorded;
      s.filter = std::string(kAuditBloomBytes, '\0');
    }
    read.Reset();
    if (s.filter.has_value() && s.filter->size() != kAuditBloomBytes) s.filter.reset();
    // The records of this batch in this block.
    for (;
         i < records.size() && ((first_seq + static_cast<int64_t>(i)) >> kAuditBlockBits) == block;
         ++i) {
      const AuditAppend& r = records[i];
      s.first = std::min(s.first, r.recorded);
      s.last = std::max(s.last, r.recorded);
      if (s.filter.has_value() && !r.patient.empty()) AuditBloomAdd(*s.filter, r.patient);
    }
    write.Bind(1, block).Bind(2, s.first).Bind(3, s.last);
    if (s.filter.has_value()) {
      write.BindBlob(4, *s.filter);
    } else {
      write.BindNull(4);
    }
    RETURN_IF_ERROR(write.Run());
  }
  return Status::Ok();
}

}  // namespace vesta::store::sqlite_internal
