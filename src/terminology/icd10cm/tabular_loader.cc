// The CDC ICD-10-CM Tabular List XML loader.
//
// The file nests <chapter> / <section> / <diag> (category, subcategories); a <diag> with no
// <diag> children is a code, unless a <sevenChrDef> applies. The Tabular's own rule
// (introduction, "7th characters and placeholder X"): "For codes less than 6 characters that
// require a 7th character a placeholder X should be assigned for all characters less than 6. The
// 7th character must always be the 7th character of a code." A <sevenChrDef> applies to the
// codes below the <diag> that carries it; the nearest definition wins.
#include <expat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "terminology/code_system_writer.h"
#include "terminology/db.h"
#include "terminology/icd10cm/codes.h"
#include "terminology/line_reader.h"
#include "terminology/loaders.h"
#include "terminology/progress.h"
#include "terminology/schema.h"

namespace vesta::terminology {
namespace {

using internal::CodeSystemContent;
using internal::ConceptKind;
using internal::ConceptRow;
using internal::NoteRow;

struct SevenChr {
  char chr;
  std::string text;
};

// One open <chapter>, <section> or <diag>.
struct Frame {
  enum class Type { kChapter, kSection, kDiag };
  explicit Frame(Type t) : type(t) {}
  Type type;
  size_t row = 0;  // index in content.concepts once the name is known
  bool named = false;
  bool has_child_diag = false;
  std::string name;  // chapter number or diag code as written ("A00.0")
  std::string desc;
  std::vector<SevenChr> seven;  // own <sevenChrDef>, if any
};

constexpr size_t kMaxNesting = 64;

class TabularParser {
 public:
  explicit TabularParser(CodeSystemContent* out) : out_(out) {}

  void Start(std::string_view el, const XML_Char** attrs) {
    if (elements_.size() >= kMaxNesting) return Fail("elements nested too deeply");
    elements_.emplace_back(el);
    text_.clear();
    if (el == "chapter") {
      frames_.emplace_back(Frame::Type::kChapter);
    } else if (el == "section") {
      Frame f(Frame::Type::kSection);
      for (int i = 0; attrs[i] != nullptr; i += 2) {
        if (std::string_view(attrs[i]) == "id") f.name = attrs[i + 1];
      }
      frames_.push_back(std::move(f));
      EmitCurrent();
    } else if (el == "diag") {
      if (!frames_.empty()) {
        Frame& parent = frames_.back();
        parent.has_child_diag = true;
      }
      frames_.emplace_back(Frame::Type::kDiag);
    } else if (el == "extension") {
      ext_char_ = 0;
      for (int i = 0; attrs[i] != nullptr; i += 2) {
        if (std::string_view(attrs[i]) == "char" && attrs[i + 1][0] != 0) {
          ext_char_ = attrs[i + 1][0];
        }
      }
    }
  }

  void End(std::string_view el) {
    if (elements_.empty()) return;
    std::string text(Trim(text_));
    text_.clear();
    elements_.pop_back();
    std::string_view parent = elements_.empty() ? std::string_view() : elements_.back();
    if (el == "version" && parent == "ICD10CM.tabular") {
      out_->version = text;
    } else if (el == "name" && !frames_.empty() && IsFrameElement(parent)) {
      frames_.back().name = text;
      if (frames_.back().type == Frame::Type::kDiag) EmitCurrent();
    } else if (el == "desc" && !frames_.empty() && IsFrameElement(parent)) {
      Frame& f = frames_.back();
      f.desc = text;
      if (f.type == Frame::Type::kChapter) {
        EmitCurrent();
      } else if (f.named) {
        out_->concepts[f.row].display = text;
      }
    } else if (el == "note" && !frames_.empty() && frames_.back().named && elements_.size() >= 2 &&
               IsFrameElement(elements_[elements_.size() - 2])) {
      out_->notes.push_back({out_->concepts[frames_.back().row].code, std::string(parent), text});
    } else if (el == "extension" && parent == "sevenChrDef" && !frames_.empty() && ext_char_) {
      frames_.back().seven.push_back({ext_char_, text});
      if (frames_.back().named) {
        out_->notes.push_back({out_->concepts[frames_.back().row].code, "seventhCharacter",
                               std::string(1, ext_char_) + ": " + text});
      }
    } else if (el == "diag" || el == "section" || el == "chapter") {
      if (el == "diag" && !frames_.empty()) CloseDiag();
      if (!frames_.empty()) frames_.pop_back();
    }
  }

  void Text(std::string_view s) { text_.append(s); }

  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  const std::string& error() const { return error_; }

 private:
  static bool IsFrameElement(std::string_view el) {
    return el == "chapter" || el == "section" || el == "diag";
  }

  // The concept's code: a chapter is named by the range in its title ("... (A00-B99)").
  static std::string ChapterCode(const Frame& f) {
    size_t open = f.desc.rfind('(');
    size_t close = f.desc.rfind(')');
    if (open != std::string::npos && close != std::string::npos && close > open + 1) {
      return f.desc.substr(open + 1, close - open - 1);
    }
    return "chapter-" + f.name;
  }

  std::string ParentCode() const {
    for (size_t i = frames_.size() - 1; i-- > 0;) {
      if (frames_[i].named) return out_->concepts[frames_[i].row].code;
    }
    return {};
  }

  void EmitCurrent() {
    Frame& f = frames_.back();
    if (f.named) return;
    ConceptRow c;
    switch (f.type) {
      case Frame::Type::kChapter:
        c.code = ChapterCode(f);
        c.kind = ConceptKind::kChapter;
        break;
      case Frame::Type::kSection:
        // A block of one category has that category's code as its id ("B10"); spell it as a
        // range ("B10-B10") so that block and category stay distinct concepts.
        c.code = f.name.find('-') == std::string::npos && !f.name.empty() ? f.name + "-" + f.name
                                                                          : f.name;
        c.kind = ConceptKind::kBlock;
        break;
      case Frame::Type::kDiag:
        // A <diag placeholder="true"> ("H21.1X") is a header like any other: the CMS order
        // file lists these as non-billable entries too.
        c.code = f.name;
        c.kind = ConceptKind::kCode;
        break;
    }
    if (c.code.empty()) return Fail("an element without a name");
    c.display = f.desc;
    c.parent = ParentCode();
    f.row = out_->concepts.size();
    f.named = true;
    out_->concepts.push_back(std::move(c));
  }

  const std::vector<SevenChr>* InheritedSeven() const {
    for (size_t i = frames_.size(); i-- > 0;) {
      if (!frames_[i].seven.empty()) return &frames_[i].seven;
    }
    return nullptr;
  }

  void CloseDiag() {
    Frame& f = frames_.back();
    if (!f.named) return Fail("a <diag> without a <name>");
    ConceptRow& row = out_->concepts[f.row];
    if (f.has_child_diag) {
      row.kind = ConceptKind::kHeader;
      return;
    }
    const std::vector<SevenChr>* seven = InheritedSeven();
    std::string base = Undotted(row.code);
    if (seven == nullptr || base.size() >= 7) {
      row.kind = ConceptKind::kCode;
      row.billable = true;
      return;
    }
    row.kind = ConceptKind::kHeader;
    base.resize(6, 'X');
    std::string parent = row.code;
    std::string display = row.display;
    for (const SevenChr& s : *seven) {
      ConceptRow c;
      c.code = Icd10CmDotted(base + s.chr);
      c.display = display + ", " + s.text;
      c.kind = ConceptKind::kCode;
      c.billable = true;
      c.parent = parent;
      out_->concepts.push_back(std::move(c));
    }
  }

  CodeSystemContent* out_;
  std::vector<Frame> frames_;
  std::vector<std::string> elements_;
  std::string text_;
  char ext_char_ = 0;
  std::string error_;
};

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  static_cast<TabularParser*>(data)->Start(name, attrs);
}
void XMLCALL OnEnd(void* data, const XML_Char* name) {
  static_cast<TabularParser*>(data)->End(name);
}
void XMLCALL OnText(void* data, const XML_Char* s, int len) {
  static_cast<TabularParser*>(data)->Text(std::string_view(s, static_cast<size_t>(len)));
}

struct ParserDeleter {
  void operator()(XML_ParserStruct* p) const { XML_ParserFree(p); }
};

Status ParseTabular(const std::string& file, CodeSystemContent* out, Progress* progress) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputFile> in, InputFile::Open(file));
  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate("UTF-8"));
  if (!parser) return Internal("cannot create an XML parser");
  TabularParser handler(out);
  XML_SetUserData(parser.get(), &handler);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  std::vector<char> buffer(1 << 16);
  int64_t total = 0;
  // Bounded by the file's size: each pass consumes at least one byte or ends.
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buffer.data(), buffer.size()));
    total += static_cast<int64_t>(n);
    if (XML_Parse(parser.get(), buffer.data(), static_cast<int>(n), n == 0) == XML_STATUS_ERROR) {
      return Invalid(file + ":" + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " +
                     XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    if (!handler.error().empty()) {
      return Invalid(file + ":" + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " +
                     handler.error());
    }
    if (progress != nullptr) progress->Update(static_cast<int64_t>(out->concepts.size()));
    if (n == 0) break;
  }
  if (total == 0) return Invalid(file + ": empty file");
  return Status::Ok();
}

}  // namespace

std::string TerminologyDbPath(const std::string& data_dir) {
  if (data_dir.empty()) return "terminology.db";
  return data_dir.back() == '/' ? data_dir + "terminology.db" : data_dir + "/terminology.db";
}

Result<LoadReport> LoadIcd10CmTabular(const std::string& location, const std::string& file) {
  auto start = std::chrono::steady_clock::now();
  CodeSystemContent content;
  content.url = internal::kIcd10CmUrl;
  content.name = "ICD10CM";
  content.title =
      "International Classification of Diseases, Tenth Revision, Clinical "
      "Modification (ICD-10-CM)";
  content.source = "tabular";
  content.source_file = internal::BaseName(file);
  {
    Progress progress("reading " + content.source_file);
    RETURN_IF_ERROR(ParseTabular(file, &content, &progress));
  }
  if (content.version.empty()) return Invalid(file + ": no <version> in the Tabular List");
  if (content.concepts.empty()) return Invalid(file + ": no chapters or codes");
  ASSIGN_OR_RETURN(std::unique_ptr<internal::Db> db,
                   internal::OpenDb(location, internal::Access::kWrite));
  {
    Progress progress("writing ICD-10-CM " + content.version);
    RETURN_IF_ERROR(internal::WriteCodeSystem(*db, content, &progress));
  }
  LoadReport report = internal::ReportOf(content);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vesta::terminology
