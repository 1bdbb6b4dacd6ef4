#include "search/normalize.h"

namespace vesta::search {
namespace {

// Base letters for U+00C0..U+017F ('\0': keep the character as is).
constexpr char kFold[] =
    // C0..DF: ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞß
    "aaaaaa\1ceeeeiiiidnooooo\0ouuuuy\0\2"
    // E0..FF
    "aaaaaa\1ceeeeiiiidnooooo\0ouuuuy\0y"
    // 100..17F: Latin Extended-A, in pairs (upper, lower)
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii\3\3jjkkkllllllllllnnnnnnnnnoooooo\4\4"
    "rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

}  // namespace

std::string NormalizeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
      unsigned cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      if (cp >= 0xC0 && cp < 0xC0 + sizeof(kFold) - 1) {
        char f = kFold[cp - 0xC0];
        if (f == '\1') {
          out += "ae";
          i += 2;
          continue;
        }
        if (f == '\2') {
          out += "ss";
          i += 2;
          continue;
        }
        if (f == '\3') {
          out += "ij";
          i += 2;
          continue;
        }
        if (f == '\4') {
          out += "oe";
          i += 2;
          continue;
        }
        if (f != '\0') {
          out.push_back(f);
          i += 2;
          continue;
        }
      }
    }
    out.push_back(static_cast<char>(c));
    ++i;
  }
  return out;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace vesta::search
