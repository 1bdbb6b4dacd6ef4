// `vesta generate`: writes a deterministic synthetic population (docs/generate.md).
//
//   vesta generate --patients 1000 --seed 7 --format ndjson --out /tmp/pop
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "cli/command.h"
#include "generate/output.h"

namespace vesta::cli {
namespace {

struct GenerateArgs {
  int64_t patients = 100;
  uint64_t seed = 1;
  std::string format = "ndjson";
  std::string out;
  std::string end_date = "2025-06-30";
  int years = 5;
  int threads = 1;
  bool quiet = false;
  bool legacy_icd9 = false;
  bool measures = false;
};

void Run(const GenerateArgs& args) {
  generate::GenerateOptions options;
  options.patients = args.patients;
  options.seed = args.seed;
  options.years = args.years;
  options.legacy_icd9 = args.legacy_icd9;
  options.measures = args.measures;
  if (!generate::ParseDate(args.end_date, &options.end_date)) {
    std::fprintf(stderr, "vesta generate: --end-date must be YYYY-MM-DD\n");
    throw CLI::RuntimeError(2);
  }
  const generate::OutputFormat format =
      args.format == "bundles" ? generate::OutputFormat::kBundles : generate::OutputFormat::kNdjson;
  const auto start = std::chrono::steady_clock::now();
  Result<generate::WriteStats> stats =
      generate::WritePopulation(options, format, args.out, args.threads);
  if (!stats.ok()) {
    std::fprintf(stderr, "vesta generate: %s\n", stats.status().ToString().c_str());
    throw CLI::RuntimeError(1);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.quiet) return;
  std::fprintf(stderr,
               "%lld patients, %lld resources, %.1f MB in %.2f s (%.0f patients/s, "
               "%.0f resources/s)\n",
               static_cast<long long>(stats->patients), static_cast<long long>(stats->resources),
               static_cast<double>(stats->bytes) / 1e6, seconds,
               static_cast<double>(stats->patients) / seconds,
               static_cast<double>(stats->resources) / seconds);
  for (int t = 0; t < generate::kResourceTypeCount; ++t) {
    if (stats->by_type[t] == 0) continue;
    std::fprintf(stderr, "  %-20s %lld\n",
                 std::string(generate::TypeName(static_cast<generate::ResourceType>(t))).c_str(),
                 static_cast<long long>(stats->by_type[t]));
  }
}

void Add(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd =
      app.add_subcommand("generate",
                         "Write a deterministic synthetic population (NDJSON files or transaction "
                         "Bundles)");
  cmd->add_option("--patients,-n", args->patients, "Number of patients")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  cmd->add_option("--seed", args->seed, "Random seed: the same seed gives the same bytes");
  cmd->add_option("--format", args->format, "ndjson (one file per type) or bundles")
      ->check(CLI::IsMember({"ndjson", "bundles"}));
  cmd->add_option("--out,-o", args->out, "Output directory")->required();
  cmd->add_option("--end-date", args->end_date,
                  "The population's 'today' (YYYY-MM-DD); nothing happens after it");
  cmd->add_option("--years", args->years, "Years of history before the end date")
      ->check(CLI::Range(1, 30));
  cmd->add_flag("--legacy-icd9", args->legacy_icd9,
                "Code long-term conditions diagnosed before 2015-10-01 in ICD-9-CM, as records "
                "from a legacy system (input for `vesta icd10 migrate`)");
  cmd->add_flag("--measures", args->measures,
                "Add what quality measures look for (CMS122, CMS130): visits' billing codes, "
                "telephone visits, colorectal screenings, frailty, hospice, palliative care");
  cmd->add_option("--threads,-j", args->threads, "Generator threads (output is identical)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--quiet,-q", args->quiet, "Print nothing on success");
  cmd->callback([args] { Run(*args); });
}

VESTA_COMMAND(Add);

}  // namespace
}  // namespace vesta::cli
