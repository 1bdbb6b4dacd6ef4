// A deterministic synthetic population of FHIR R4 resources.
//
// The same options (seed included) always give byte-identical resources, whatever the thread
// count or machine: each patient draws from its own random stream, keyed by (seed, patient
// index), and shared resources (Organizations, Locations, Practitioners) from streams keyed by
// (seed, kind, index), so nothing depends on the order in which patients are generated and no
// state is kept between them. Memory is bounded by one patient's resources.
//
//   GenerateOptions options;
//   options.patients = 1000;
//   Generator generator(options);
//   ResourceBatch batch;
//   generator.GenerateShared(&batch);            // Organizations, Locations, Practitioners
//   for (int64_t i = 0; i < options.patients; ++i) {
//     batch.Clear();
//     generator.GeneratePatient(i, &batch);      // the Patient first, then its records
//     for (const auto& e : batch.entries()) Use(e.type, batch.id(e), batch.json(e));
//   }
//
// The clinical model (which conditions at which ages, what gets measured when) is described in
// docs/generate.md; the codes and rates are in tables.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "generate/calendar.h"
#include "generate/json_out.h"

namespace vesta::generate {

enum class ResourceType : uint8_t {
  kOrganization,
  kLocation,
  kPractitioner,
  kPatient,
  kAllergyIntolerance,
  kEncounter,
  kCondition,
  kObservation,
  kProcedure,
  kMedicationRequest,
  kImmunization,
};
inline constexpr int kResourceTypeCount = 11;
std::string_view TypeName(ResourceType type);

struct GenerateOptions {
  int64_t patients = 100;
  uint64_t seed = 1;
  // The "today" of the population: ages are taken on this date and nothing happens after it.
  // Fixed (not the wall clock) so that output does not change from one day to the next.
  Days end_date = DaysFromCivil(2025, 6, 30);
  // Years of history generated before end_date.
  int years = 5;
  // Long-term conditions diagnosed before the ICD-10-CM transition (2015-10-01) are coded in
  // ICD-9-CM (tables.h, Icd9For) instead of ICD-10-CM, as in records carried over from a legacy
  // system: the input of the ICD-9 -> ICD-10 migration (`vesta icd10 migrate`). Draws no random
  // numbers: everything else is the same as without it.
  bool legacy_icd9 = false;
  // Records that electronic clinical quality measures look for (docs/generate.md, "Quality
  // measures"): billing codes on office visits, telephone visits, HbA1c results without a value,
  // colorectal cancer screenings of every kind and their history, colorectal cancer and
  // colectomy, frailty with advanced illness, hospice and palliative care. The added records draw
  // from streams of their own, so every resource of the population without it is still written,
  // with the same id; the encounters gain a coding and a few HbA1c results lose their value.
  bool measures = false;
};

// Checks ranges (patients >= 0, 1 <= years <= 30, a plausible end date).
Status Validate(const GenerateOptions& options);

// A lower-case version-4 UUID, the logical id of every generated resource.
struct ResourceId {
  std::array<char, 36> text;
  std::string_view view() const { return {text.data(), text.size()}; }
};

// Resources serialized back to back in one string; reused across patients so that steady-state
// generation allocates nothing. Not thread-safe; use one per thread.
class ResourceBatch {
 public:
  struct Entry {
    ResourceType type;
    ResourceId id;
    size_t begin;
    size_t end;
  };

  void Clear() {
    text_.clear();
    entries_.clear();
  }
  // Clear() and give the memory back (after an unusually large patient).
  void Release() {
    std::string().swap(text_);
    std::vector<Entry>().swap(entries_);
  }
  size_t capacity_bytes() const { return text_.capacity() + entries_.capacity() * sizeof(Entry); }
  const std::vector<Entry>& entries() const { return entries_; }
  // The resource's JSON (compact, one line). Valid until the batch is next changed.
  std::string_view json(const Entry& e) const {
    return std::string_view(text_).substr(e.begin, e.end - e.begin);
  }
  size_t bytes() const { return text_.size(); }

  // Starts a resource: writes `{"resourceType":...,"id":...`; the caller adds members with the
  // returned writer and then calls Finish with it.
  JsonOut Start(ResourceType type, const ResourceId& id);
  void Finish(JsonOut& j);

 private:
  std::string text_;
  std::vector<Entry> entries_;
};

class Generator {
 public:
  // REQUIRES: Validate(options).ok().
  explicit Generator(const GenerateOptions& options);

  int organization_count() const { return organizations_; }
  int practitioner_count() const { return organizations_ * kPractitionersPerOrganization; }

  // Appends every Organization, Location and Practitioner (one Location per Organization).
  void GenerateShared(ResourceBatch* out) const;
  // Appends patient `index` (0-based) and all their records. Thread-safe.
  void GeneratePatient(int64_t index, ResourceBatch* out) const;

  // The id of shared resource `index` of `type` (Organization, Location or Practitioner).
  ResourceId SharedId(ResourceType type, int64_t index) const;

  static constexpr int kPractitionersPerOrganization = 6;

 private:
  GenerateOptions options_;
  int organizations_;
};

}  // namespace vesta::generate
