#include "postgres/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "base/log.h"

namespace vesta::postgres {

namespace {

// Type OIDs of the built-in types this adapter reads or sends (pg_type.dat; stable since 7.x).
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr std::string_view kStateMarker = " [SQLSTATE ";

// The code for a SQLSTATE; the table is in connection.h.
StatusCode CodeFor(std::string_view state) {
  std::string_view cls = state.substr(0, 2);
  if (cls == "08" || cls == "53" || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "55P03" || state == "57014") {
    return StatusCode::kUnavailable;
  }
  if (cls == "23" || cls == "40") return StatusCode::kConflict;
  return StatusCode::kInternal;
}

std::string TrimEnd(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The first 200 bytes of `sql`, for messages.
std::string Excerpt(std::string_view sql) {
  constexpr size_t kMax = 200;
  std::string out = "\"";
  out += sql.substr(0, kMax);
  if (sql.size() > kMax) out += "...";
  out += "\"";
  return out;
}

// The Status of a failed call: `result` when the server answered (it may be null), else the
// connection's own message.
Status Error(const PGresult* result, PGconn* conn, std::string_view what) {
  std::string state;
  std::string message;
  std::string detail;
  if (result != nullptr) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) state = s;
    if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = m;
    if (const char* d = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) detail = d;
    if (message.empty()) message = TrimEnd(PQresultErrorMessage(result));
  }
  if (message.empty()) message = TrimEnd(PQerrorMessage(conn));
  if (message.empty()) message = "unknown error";
  const bool lost = PQstatus(conn) != CONNECTION_OK;
  if (state.empty()) state = lost ? "08006" : "XX000";
  std::string text(what);
  text += ": ";
  text += message;
  if (!detail.empty()) text += " (" + detail + ")";
  text += kStateMarker;
  text += state;
  text += "]";
  // A connection that is gone is gone, whatever the last message said.
  return Status(lost ? StatusCode::kUnavailable : CodeFor(state), std::move(text));
}

void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "Infinity" : "-Infinity";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, end);
  }
}

void AppendInt(std::string& out, int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

// Parameters laid out as libpq wants them: values (null for NULL), lengths and formats (only
// read for binary ones), types (0: the server infers).
class Params {
 public:
  Status Set(std::span<const Value> params) {
    const size_t n = params.size();
    text_.assign(n, std::string());
    values_.assign(n, nullptr);
    lengths_.assign(n, 0);
    formats_.assign(n, 0);
    types_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Value& value = params[i];
      if (const int64_t* v = std::get_if<int64_t>(&value)) {
        AppendInt(text_[i], *v);
      } else if (const double* d = std::get_if<double>(&value)) {
        AppendDouble(text_[i], *d);
      } else if (const std::string_view* s = std::get_if<std::string_view>(&value)) {
        if (s->find('\0') != std::string_view::npos) {
          return Status(StatusCode::kInvalid, "parameter $" + std::to_string(i + 1) +
                                                  ": text with a NUL byte (PostgreSQL's text "
                                                  "types cannot hold one)");
        }
        text_[i] = *s;  // copied: libpq reads text parameters up to their terminator
      } else if (const Bytes* b = std::get_if<Bytes>(&value)) {
        values_[i] = b->data.empty() ? "" : b->data.data();
        lengths_[i] = static_cast<int>(b->data.size());
        formats_[i] = 1;
        types_[i] = kByteaOid;
        continue;
      } else {
        continue;  // NULL
      }
      values_[i] = text_[i].c_str();
    }
    return Status::Ok();
  }

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  const Oid* types() const { return types_.data(); }

 private:
  std::vector<std::string> text_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

std::string_view SqlState(const Status& status) {
  std::string_view message = status.message();
  size_t at = message.rfind(kStateMarker);
  if (at == std::string_view::npos) return {};
  std::string_view state = message.substr(at + kStateMarker.size());
  if (state.size() < 6 || state[5] != ']') return {};
  return state.substr(0, 5);
}

// ---- Rows -------------------------------------------------------------------------------------

void Rows::Free::operator()(pg_result* result) const { PQclear(result); }

Rows::Rows(pg_result* result) : result_(result) {}
Rows::Rows(Rows&&) noexcept = default;
Rows& Rows::operator=(Rows&&) noexcept = default;
Rows::~Rows() = default;

int Rows::size() const { return PQntuples(result_.get()); }

int Rows::columns() const { return PQnfields(result_.get()); }

int64_t Rows::affected() const {
  std::string_view count = PQcmdTuples(result_.get());
  int64_t n = 0;
  std::from_chars(count.data(), count.data() + count.size(), n);
  return n;
}

ColumnType Rows::Type(int column) const {
  switch (PQftype(result_.get(), column)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return ColumnType::kInteger;
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return ColumnType::kFloat;
    case kByteaOid:
      return ColumnType::kBytes;
    default:
      return ColumnType::kText;
  }
}

bool Rows::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view Rows::Text(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

namespace {

// Big-endian integers of the binary forms (network byte order).
uint64_t BigEndian(const char* data, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value = (value << 8) | static_cast<unsigned char>(data[i]);
  return value;
}

bool IsBinary(const PGresult* result, int column) { return PQfformat(result, column) == 1; }

// A numeric's binary form (numeric_send: ndigits, weight, sign, dscale as 16-bit integers, then
// ndigits base-10000 digits) as a double, through its decimal text so that it rounds as the
// text form does.
double NumericBinaryToDouble(std::string_view data) {
  if (data.size() < 8) return 0;
  const size_t ndigits = BigEndian(data.data(), 2);
  const int weight = static_cast<int16_t>(BigEndian(data.data() + 2, 2));
  const uint64_t sign = BigEndian(data.data() + 4, 2);
  if (sign == 0xC000) return std::numeric_limits<double>::quiet_NaN();
  if (sign == 0xD000) return std::numeric_limits<double>::infinity();
  if (sign == 0xF000) return -std::numeric_limits<double>::infinity();
  if (data.size() < 8 + 2 * ndigits) return 0;
  if (ndigits == 0) return 0;
  std::string text;
  if (sign == 0x4000) text += '-';
  for (size_t i = 0; i < ndigits; ++i) {
    char digits[5];
    const int d = static_cast<int>(BigEndian(data.data() + 8 + 2 * i, 2));
    digits[0] = static_cast<char>('0' + d / 1000);
    digits[1] = static_cast<char>('0' + d / 100 % 10);
    digits[2] = static_cast<char>('0' + d / 10 % 10);
    digits[3] = static_cast<char>('0' + d % 10);
    text.append(digits, 4);
  }
  // The last digit group is worth 10000^(weight - ndigits + 1).
  text += 'e';
  text += std::to_string(4 * (weight - static_cast<int>(ndigits) + 1));
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

int64_t Rows::Int(int row, int column) const {
  std::string_view text = Text(row, column);
  if (IsBinary(result_.get(), column)) {
    switch (PQftype(result_.get(), column)) {
      case kInt2Oid:
        return static_cast<int16_t>(BigEndian(text.data(), std::min<size_t>(text.size(), 2)));
      case kInt4Oid:
        return static_cast<int32_t>(BigEndian(text.data(), std::min<size_t>(text.size(), 4)));
      case kOidOid:
        return static_cast<uint32_t>(BigEndian(text.data(), std::min<size_t>(text.size(), 4)));
      case kInt8Oid:
        return static_cast<int64_t>(BigEndian(text.data(), std::min<size_t>(text.size(), 8)));
      default:
        break;  // text-like: its digits
    }
  }
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

double Rows::Double(int row, int column) const {
  std::string_view text = Text(row, column);
  if (IsBinary(result_.get(), column)) {
    switch (PQftype(result_.get(), column)) {
      case kFloat4Oid: {
        if (text.size() != 4) return 0;
        const uint32_t bits = static_cast<uint32_t>(BigEndian(text.data(), 4));
        float value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
      case kFloat8Oid: {
        if (text.size() != 8) return 0;
        const uint64_t bits = BigEndian(text.data(), 8);
        double value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
      case kNumericOid:
        return NumericBinaryToDouble(text);
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
      case kOidOid:
        return static_cast<double>(Int(row, column));
      default:
        break;
    }
  }
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);  // Infinity, NaN included
  return value;
}

std::string Rows::Bytes(int row, int column) const {
  if (PQftype(result_.get(), column) != kByteaOid || IsNull(row, column) ||
      IsBinary(result_.get(), column)) {
    return std::string(Text(row, column));
  }
  size_t size = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &size);
  if (bytes == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(bytes), size);
  PQfreemem(bytes);
  return out;
}

// ---- COPY -------------------------------------------------------------------------------------

void AppendCopyRow(std::string& out, std::span<const Value> row) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += '\t';
    const Value& value = row[i];
    if (const int64_t* v = std::get_if<int64_t>(&value)) {
      AppendInt(out, *v);
    } else if (const double* d = std::get_if<double>(&value)) {
      AppendDouble(out, *d);
    } else if (const std::string_view* s = std::get_if<std::string_view>(&value)) {
      for (char c : *s) {
        switch (c) {
          case '\\':
            out += "\\\\";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          default:
            out += c;
        }
      }
    } else if (const Bytes* b = std::get_if<Bytes>(&value)) {
      out += "\\\\x";  // bytea's own text form, \x<hex>, with its backslash escaped for COPY
      for (unsigned char c : b->data) {
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
    } else {
      out += "\\N";
    }
  }
  out += '\n';
}

CopyIn::CopyIn(CopyIn&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

CopyIn::~CopyIn() {
  if (db_ == nullptr) return;
  PGconn* conn = db_->conn_;
  if (PQputCopyEnd(conn, "the client abandoned the copy") == 1) {
    // Drain: the COPY's own (failed) result, then null. Bounded in case libpq keeps answering.
    for (int i = 0; i < 16; ++i) {
      PGresult* result = PQgetResult(conn);
      if (result == nullptr) break;
      PQclear(result);
    }
  }
}

Status CopyIn::Write(std::string_view data) {
  if (db_ == nullptr) return Internal("COPY: written after End()");
  constexpr size_t kChunk = 1 << 20;
  while (!data.empty()) {
    size_t n = std::min(data.size(), kChunk);
    if (PQputCopyData(db_->conn_, data.data(), static_cast<int>(n)) != 1) {
      return Error(nullptr, db_->conn_, "COPY: sending data");
    }
    data.remove_prefix(n);
  }
  return Status::Ok();
}

Result<int64_t> CopyIn::End() {
  if (db_ == nullptr) return Internal("COPY: ended twice");
  Connection* db = std::exchange(db_, nullptr);
  if (PQputCopyEnd(db->conn_, nullptr) != 1) return Error(nullptr, db->conn_, "COPY: ending");
  Result<int64_t> rows = Internal("COPY: no result from the server");
  for (int i = 0; i < 16; ++i) {
    PGresult* result = PQgetResult(db->conn_);
    if (result == nullptr) break;
    if (i == 0) {
      Result<Rows> copied = db->Run(result, "COPY");
      if (copied.ok()) {
        rows = copied->affected();
      } else {
        rows = copied.status();
      }
    } else {
      PQclear(result);
    }
  }
  return rows;
}

// ---- Connection -------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& uri,
                                                     const Options& options) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error != nullptr ? TrimEnd(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return Status(StatusCode::kInvalid, "a PostgreSQL connection string: " + message);
  }
  PQconninfoFree(parsed);

  // Keywords before dbname are defaults the URI may override; those after it are not.
  std::string timeout = std::to_string(std::max(options.connect_timeout_s, 2));
  std::string idle = std::to_string(options.keepalive_idle_s);
  std::string interval = std::to_string(options.keepalive_interval_s);
  std::string count = std::to_string(options.keepalive_count);
  // Unacknowledged data (a statement sent to a peer that vanished) is given up after as long
  // as the keepalive probes take.
  std::string user_timeout = std::to_string(
      1000 * (options.keepalive_idle_s + options.keepalive_interval_s * options.keepalive_count));
  const char* keys[] = {"connect_timeout",     "application_name",
                        "keepalives",          "keepalives_idle",
                        "keepalives_interval", "keepalives_count",
                        "tcp_user_timeout",    "dbname",
                        "client_encoding",     nullptr};
  const char* values[] = {timeout.c_str(),
                          options.application_name.c_str(),
                          "1",
                          idle.c_str(),
                          interval.c_str(),
                          count.c_str(),
                          user_timeout.c_str(),
                          uri.c_str(),
                          "UTF8",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr)
    return Status(StatusCode::kUnavailable, "connecting to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = TrimEnd(PQerrorMessage(conn));
    PQfinish(conn);
    return Status(StatusCode::kUnavailable,
                  "connecting to PostgreSQL: " + message + std::string(kStateMarker) + "08001]");
  }
  // Notices (e.g. "table does not exist, skipping") go to the debug log, not to stderr.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) { Log(LogLevel::kDebug, "postgres: " + TrimEnd(message)); },
      nullptr);
  std::unique_ptr<Connection> db(new Connection(conn, options));
  RETURN_IF_ERROR(db->SetUpSession());
  return db;
}

Status Connection::SetUpSession() {
  if (options_.statement_timeout_ms <= 0) return Status::Ok();
  // One round trip; set_config(..., false) lasts for the session. "0" is the setting's "none".
  Status status = Exec("SELECT set_config('statement_timeout', '" +
                       std::to_string(options_.statement_timeout_ms) +
                       "', false) WHERE current_setting('statement_timeout') = '0'");
  if (status.ok()) return status;
  return Status(StatusCode::kUnavailable,
                "connecting to PostgreSQL: setting statement_timeout: " + status.message());
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::Run(pg_result* result, std::string_view what) {
  if (result == nullptr) return Error(nullptr, conn_, what);
  switch (PQresultStatus(result)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_COPY_IN:
      return Rows(result);
    default: {
      Status status = Error(result, conn_, what);
      PQclear(result);
      return status;
    }
  }
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  Result<Rows> rows = Run(PQexec(conn_, text.c_str()), Excerpt(sql));
  return rows.status();
}

Result<Rows> Connection::Query(std::string_view sql, std::span<const Value> params, Format format) {
  const int result_format = format == Format::kBinary ? 1 : 0;
  Params p;
  RETURN_IF_ERROR(p.Set(params));
  std::string key(sql);
  auto it = statements_.find(key);
  if (it == statements_.end() && statements_.size() >= kMaxPreparedStatements) {
    return Run(PQexecParams(conn_, key.c_str(), p.size(), p.types(), p.values(), p.lengths(),
                            p.formats(), result_format),
               Excerpt(sql));
  }
  if (it == statements_.end()) {
    std::string name = "vesta_" + std::to_string(++next_statement_);
    Result<Rows> prepared = Run(PQprepare(conn_, name.c_str(), key.c_str(), p.size(), p.types()),
                                "preparing " + Excerpt(sql));
    if (!prepared.ok()) return prepared.status();
    it = statements_.emplace(std::move(key), std::move(name)).first;
  }
  return Run(PQexecPrepared(conn_, it->second.c_str(), p.size(), p.values(), p.lengths(),
                            p.formats(), result_format),
             Excerpt(sql));
}

Result<Rows> Connection::QueryUncached(std::string_view sql, std::span<const Value> params,
                                       Format format) {
  Params p;
  RETURN_IF_ERROR(p.Set(params));
  std::string text(sql);
  return Run(PQexecParams(conn_, text.c_str(), p.size(), p.types(), p.values(), p.lengths(),
                          p.formats(), format == Format::kBinary ? 1 : 0),
             Excerpt(sql));
}

Status Connection::Begin(Isolation isolation) {
  switch (isolation) {
    case Isolation::kReadCommitted:
      return Exec("BEGIN ISOLATION LEVEL READ COMMITTED");
    case Isolation::kRepeatableRead:
      return Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    case Isolation::kSerializable:
      return Exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
  }
  return Internal("BEGIN: unknown isolation level");
}

Status Connection::Commit() {
  // COMMIT of a transaction in which a statement failed succeeds as a ROLLBACK: say so.
  const bool failed = PQtransactionStatus(conn_) == PQTRANS_INERROR;
  ASSIGN_OR_RETURN(Rows rows, Run(PQexec(conn_, "COMMIT"), "COMMIT"));
  if (failed || std::string_view(PQcmdStatus(rows.result_.get())) == "ROLLBACK") {
    return Internal("COMMIT: a statement of the transaction had failed, so it was rolled back" +
                    std::string(kStateMarker) + "25P02]");
  }
  return Status::Ok();
}

Status Connection::Rollback() { return Exec("ROLLBACK"); }

Status Connection::Savepoint(std::string_view name) {
  if (!IsIdentifier(name)) return Invalid("not a savepoint name: " + std::string(name));
  return Exec("SAVEPOINT " + std::string(name));
}

Status Connection::RollbackToSavepoint(std::string_view name) {
  if (!IsIdentifier(name)) return Invalid("not a savepoint name: " + std::string(name));
  return Exec("ROLLBACK TO SAVEPOINT " + std::string(name));
}

Status Connection::ReleaseSavepoint(std::string_view name) {
  if (!IsIdentifier(name)) return Invalid("not a savepoint name: " + std::string(name));
  return Exec("RELEASE SAVEPOINT " + std::string(name));
}

bool Connection::InTransaction() const {
  PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Result<CopyIn> Connection::CopyFrom(std::string_view sql) {
  std::string text(sql);
  ASSIGN_OR_RETURN(Rows rows, Run(PQexec(conn_, text.c_str()), Excerpt(sql)));
  if (PQresultStatus(rows.result_.get()) != PGRES_COPY_IN) {
    return Internal("not a COPY ... FROM STDIN: " + Excerpt(sql));
  }
  return CopyIn(this);
}

bool Connection::LooksAlive() {
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  // Nothing to read (one poll, the common case between statements): the server has neither
  // sent anything nor closed the connection since the last result.
  pollfd ready{};
  ready.fd = PQsocket(conn_);
  ready.events = POLLIN;
  if (ready.fd >= 0 && poll(&ready, 1, 0) == 0) return true;
  // Reads what the server sent meanwhile without waiting: a closed socket (after a FATAL
  // message, on shutdown) marks the connection bad. Twice: the first read may stop at the
  // message, before the end of the stream.
  for (int i = 0; i < 2; ++i) {
    if (PQconsumeInput(conn_) == 0) return false;
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

Status Connection::Ping() {
  Result<Rows> rows = Run(PQexec(conn_, ""), "ping");
  return rows.status();
}

Status Connection::Reconnect() {
  statements_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status(StatusCode::kUnavailable,
                  "reconnecting to PostgreSQL: " + TrimEnd(PQerrorMessage(conn_)) +
                      std::string(kStateMarker) + "08001]");
  }
  return SetUpSession();
}

int Connection::ServerVersion() const { return PQserverVersion(conn_); }

}  // namespace vesta::postgres
