#include "generate/output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace vesta::generate {

namespace {

constexpr int64_t kPatientsPerRound = 16;  // per thread, when there is more than one
// A batch that grew past this (a patient with an unusually long record) gives its memory back,
// so peak memory does not creep up with the size of the largest patient seen so far.
constexpr size_t kKeepBatchBytes = 512 * 1024;

// A FILE* that closes itself; write errors are reported by Close().
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (f_ != nullptr) std::fclose(f_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) return Internal("cannot create " + path + ": " + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    return Status::Ok();
  }
  bool is_open() const { return f_ != nullptr; }
  Status Write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), f_) != data.size()) {
      return Internal("cannot write " + path_ + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  Status Close() {
    if (f_ == nullptr) return Status::Ok();
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) return Internal("cannot write " + path_ + ": " + std::strerror(errno));
    return Status::Ok();
  }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
};

class Sink {
 public:
  Sink(OutputFormat format, std::string dir) : format_(format), dir_(std::move(dir)) {}

  Status WriteShared(const ResourceBatch& batch) {
    if (format_ == OutputFormat::kNdjson) return WriteNdjson(batch);
    return WriteBundleFile(batch, dir_ + "/00-shared.json");
  }

  Status WritePatient(int64_t index, const ResourceBatch& batch) {
    ++stats_.patients;
    if (format_ == OutputFormat::kNdjson) return WriteNdjson(batch);
    char name[48];
    std::snprintf(name, sizeof name, "/patient-%07lld.json", static_cast<long long>(index + 1));
    return WriteBundleFile(batch, dir_ + name);
  }

  Status Close() {
    for (File& f : files_) RETURN_IF_ERROR(f.Close());
    return Status::Ok();
  }

  const WriteStats& stats() const { return stats_; }

 private:
  void Count(const ResourceBatch& batch) {
    for (const auto& e : batch.entries()) {
      ++stats_.resources;
      ++stats_.by_type[static_cast<int>(e.type)];
    }
  }

  Status WriteNdjson(const ResourceBatch& batch) {
    Count(batch);
    for (const auto& e : batch.entries()) {
      File& f = files_[static_cast<int>(e.type)];
      if (!f.is_open()) {
        RETURN_IF_ERROR(f.Open(dir_ + "/" + std::string(TypeName(e.type)) + ".ndjson"));
      }
      const std::string_view json = batch.json(e);
      RETURN_IF_ERROR(f.Write(json));
      RETURN_IF_ERROR(f.Write("\n"));
      stats_.bytes += static_cast<int64_t>(json.size()) + 1;
    }
    return Status::Ok();
  }

  Status WriteBundleFile(const ResourceBatch& batch, const std::string& path) {
    Count(batch);
    text_.clear();
    AppendTransactionBundle(batch, &text_);
    text_.push_back('\n');
    File f;
    RETURN_IF_ERROR(f.Open(path));
    RETURN_IF_ERROR(f.Write(text_));
    stats_.bytes += static_cast<int64_t>(text_.size());
    return f.Close();
  }

  OutputFormat format_;
  std::string dir_;
  std::array<File, kResourceTypeCount> files_;
  std::string text_;
  WriteStats stats_;
};

}  // namespace

void AppendTransactionBundle(const ResourceBatch& batch, std::string* out) {
  out->append(R"({"resourceType":"Bundle","type":"transaction")");
  if (batch.entries().empty()) {
    out->push_back('}');
    return;
  }
  out->append(R"(,"entry":[)");
  bool first = true;
  for (const auto& e : batch.entries()) {
    if (!first) out->push_back(',');
    first = false;
    // The ids are UUIDs, so urn:uuid: names each entry as the transaction rules ask
    // (https://hl7.org/fhir/R4/bundle.html#bundle-unique); the PUT gives its RESTful identity.
    out->append(R"({"fullUrl":"urn:uuid:)");
    out->append(e.id.view());
    out->append(R"(","resource":)");
    out->append(batch.json(e));
    out->append(R"(,"request":{"method":"PUT","url":")");
    out->append(TypeName(e.type));
    out->push_back('/');
    out->append(e.id.view());
    out->append("\"}}");
  }
  out->append("]}");
}

Result<WriteStats> WritePopulation(const GenerateOptions& options, OutputFormat format,
                                   const std::string& dir, int threads) {
  RETURN_IF_ERROR(Validate(options));
  if (threads < 1 || threads > 64) return Invalid("--threads must be 1 to 64");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());

  const Generator generator(options);
  Sink sink(format, dir);
  {
    ResourceBatch shared;
    generator.GenerateShared(&shared);
    RETURN_IF_ERROR(sink.WriteShared(shared));
  }
  // Rounds of threads * kPatientsPerRound patients: each thread fills a contiguous slice of a
  // round's batches; with more than one thread, a writer thread writes round k in patient order
  // while the others generate round k + 1. Two sets of batches are reused, so memory stays at
  // two rounds' worth. One thread generates and writes one patient at a time.
  const int64_t round = threads == 1 ? 1 : threads * kPatientsPerRound;
  const size_t slots = static_cast<size_t>(std::min(round, options.patients));
  std::vector<ResourceBatch> current(slots), next(slots);
  auto generate = [&](std::vector<ResourceBatch>& batches, int64_t first, int64_t count) {
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        ResourceBatch& b = batches[static_cast<size_t>(i)];
        b.Clear();
        generator.GeneratePatient(first + i, &b);
      }
    };
    if (threads == 1) {
      work(0, count);
      return;
    }
    std::vector<std::thread> workers;
    const int64_t per = (count + threads - 1) / threads;
    for (int t = 1; t < threads && t * per < count; ++t) {
      workers.emplace_back(work, t * per, std::min(count, (t + 1) * per));
    }
    work(0, std::min(count, per));
    for (std::thread& w : workers) w.join();
  };
  auto write = [&](std::vector<ResourceBatch>& batches, int64_t first, int64_t count) -> Status {
    for (int64_t i = 0; i < count; ++i) {
      ResourceBatch& b = batches[static_cast<size_t>(i)];
      RETURN_IF_ERROR(sink.WritePatient(first + i, b));
      if (b.capacity_bytes() > kKeepBatchBytes) b.Release();
    }
    return Status::Ok();
  };
  int64_t first = 0;
  int64_t count = std::min(round, options.patients);
  generate(current, first, count);
  while (count > 0) {
    const int64_t next_first = first + count;
    const int64_t next_count = std::min(round, options.patients - next_first);
    Status written;
    if (threads == 1) {
      written = write(current, first, count);
      if (next_count > 0) generate(next, next_first, next_count);
    } else {
      std::thread writer([&] { written = write(current, first, count); });
      if (next_count > 0) generate(next, next_first, next_count);
      writer.join();
    }
    RETURN_IF_ERROR(written);
    std::swap(current, next);
    first = next_first;
    count = next_count;
  }
  RETURN_IF_ERROR(sink.Close());
  return sink.stats();
}

}  // namespace vesta::generate
