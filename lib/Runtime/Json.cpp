//===- Json.cpp - Recursive-descent JSON reader ---------------------------===//
//
// A direct reading of RFC 8259. Nesting is capped so that a hostile header
// ("[[[[...") cannot exhaust the stack.
//
//===----------------------------------------------------------------------===//
#include "nnc/Runtime/Json.h"

#include <cerrno>
#include <cstdlib>

namespace nnc::rt {

const JsonValue *JsonValue::get(std::string_view Key) const {
  for (const auto &[Name, Value] : Members)
    if (Name == Key)
      return &Value;
  return nullptr;
}

namespace {

constexpr int MaxDepth = 64;

class JsonParser {
public:
  JsonParser(std::string_view Text, uint64_t Base) : Text(Text), Base(Base) {}

  Expected<JsonValue> parseDocument() {
    JsonValue V;
    if (Status S = parseValue(V, 0))
      return S;
    skipSpace();
    if (Pos != Text.size())
      return fail("unexpected text after the JSON value");
    return V;
  }

private:
  std::string_view Text;
  uint64_t Base;
  size_t Pos = 0;

  Status fail(const std::string &Reason) const {
    return Status::error("offset " + std::to_string(Base + Pos) + ": " +
                         Reason);
  }

  void skipSpace() {
    while (Pos < Text.size() && (Text[Pos] == ' ' || Text[Pos] == '\t' ||
                                 Text[Pos] == '\n' || Text[Pos] == '\r'))
      ++Pos;
  }

  bool consume(char C) {
    skipSpace();
    if (Pos < Text.size() && Text[Pos] == C) {
      ++Pos;
      return true;
    }
    return false;
  }

  bool consumeWord(std::string_view W) {
    if (Text.substr(Pos, W.size()) != W)
      return false;
    Pos += W.size();
    return true;
  }

  Status parseValue(JsonValue &V, int Depth) {
    if (Depth > MaxDepth)
      return fail("JSON nested too deeply");
    skipSpace();
    if (Pos == Text.size())
      return fail("unexpected end of JSON");
    char C = Text[Pos];
    if (C == '{')
      return parseObject(V, Depth);
    if (C == '[')
      return parseArray(V, Depth);
    if (C == '"') {
      V.K = JsonValue::Kind::String;
      return parseString(V.Str);
    }
    if (C == '-' || (C >= '0' && C <= '9'))
      return parseNumber(V);
    if (consumeWord("true")) {
      V.K = JsonValue::Kind::Bool;
      V.Bool = true;
      return Status();
    }
    if (consumeWord("false")) {
      V.K = JsonValue::Kind::Bool;
      return Status();
    }
    if (consumeWord("null"))
      return Status();
    return fail("unexpected character " + quoteForMessage(std::string(1, C)));
  }

  Status parseObject(JsonValue &V, int Depth) {
    V.K = JsonValue::Kind::Object;
    ++Pos; // '{'
    if (consume('}'))
      return Status();
    do {
      skipSpace();
      if (Pos == Text.size() || Text[Pos] != '"')
        return fail("expected a string key");
      std::string Key;
      if (Status S = parseString(Key))
        return S;
      if (!consume(':'))
        return fail("expected ':'");
      JsonValue Member;
      if (Status S = parseValue(Member, Depth + 1))
        return S;
      V.Members.emplace_back(std::move(Key), std::move(Member));
    } while (consume(','));
    if (!consume('}'))
      return fail("expected ',' or '}'");
    return Status();
  }

  Status parseArray(JsonValue &V, int Depth) {
    V.K = JsonValue::Kind::Array;
    ++Pos; // '['
    if (consume(']'))
      return Status();
    do {
      JsonValue Element;
      if (Status S = parseValue(Element, Depth + 1))
        return S;
      V.Elements.push_back(std::move(Element));
    } while (consume(','));
    if (!consume(']'))
      return fail("expected ',' or ']'");
    return Status();
  }

  static void appendUtf8(std::string &Out, uint32_t Code) {
    if (Code < 0x80) {
      Out += char(Code);
    } else if (Code < 0x800) {
      Out += char(0xC0 | (Code >> 6));
      Out += char(0x80 | (Code & 0x3F));
    } else if (Code < 0x10000) {
      Out += char(0xE0 | (Code >> 12));
      Out += char(0x80 | ((Code >> 6) & 0x3F));
      Out += char(0x80 | (Code & 0x3F));
    } else {
      Out += char(0xF0 | (Code >> 18));
      Out += char(0x80 | ((Code >> 12) & 0x3F));
      Out += char(0x80 | ((Code >> 6) & 0x3F));
      Out += char(0x80 | (Code & 0x3F));
    }
  }

  Status parseHex4(uint32_t &Code) {
    if (Text.size() - Pos < 4)
      return fail("truncated \\u escape");
    Code = 0;
    for (int I = 0; I < 4; ++I) {
      char C = Text[Pos++];
      Code <<= 4;
      if (C >= '0' && C <= '9')
        Code |= C - '0';
      else if (C >= 'a' && C <= 'f')
        Code |= C - 'a' + 10;
      else if (C >= 'A' && C <= 'F')
        Code |= C - 'A' + 10;
      else
        return fail("bad hex digit in \\u escape");
    }
    return Status();
  }

  Status parseString(std::string &Out) {
    ++Pos; // '"'
    while (true) {
      if (Pos == Text.size())
        return fail("unterminated string");
      char C = Text[Pos++];
      if (C == '"')
        return Status();
      if ((unsigned char)C < 0x20)
        return fail("control character in string");
      if (C != '\\') {
        Out += C;
        continue;
      }
      if (Pos == Text.size())
        return fail("unterminated string");
      char E = Text[Pos++];
      switch (E) {
      case '"':
        Out += '"';
        break;
      case '\\':
        Out += '\\';
        break;
      case '/':
        Out += '/';
        break;
      case 'b':
        Out += '\b';
        break;
      case 'f':
        Out += '\f';
        break;
      case 'n':
        Out += '\n';
        break;
      case 'r':
        Out += '\r';
        break;
      case 't':
        Out += '\t';
        break;
      case 'u': {
        uint32_t Code = 0;
        if (Status S = parseHex4(Code))
          return S;
        // A high surrogate followed by a low one encodes one code point.
        if (Code >= 0xD800 && Code < 0xDC00 && Text.substr(Pos, 2) == "\\u") {
          Pos += 2;
          uint32_t Low = 0;
          if (Status S = parseHex4(Low))
            return S;
          if (Low >= 0xDC00 && Low < 0xE000)
            Code = 0x10000 + ((Code - 0xD800) << 10) + (Low - 0xDC00);
        }
        appendUtf8(Out, Code);
        break;
      }
      default:
        --Pos;
        // '\q'; a control character after the backslash as '\\x01'.
        return fail("bad escape '\\" +
                    quoteForMessage(std::string(1, E)).substr(1));
      }
    }
  }

  Status parseNumber(JsonValue &V) {
    size_t Start = Pos;
    bool Integer = true;
    if (Text[Pos] == '-')
      ++Pos;
    auto Digits = [&] {
      size_t From = Pos;
      while (Pos < Text.size() && Text[Pos] >= '0' && Text[Pos] <= '9')
        ++Pos;
      return Pos > From;
    };
    if (!Digits())
      return fail("expected digits");
    if (Pos < Text.size() && Text[Pos] == '.') {
      Integer = false;
      ++Pos;
      if (!Digits())
        return fail("expected digits after '.'");
    }
    if (Pos < Text.size() && (Text[Pos] == 'e' || Text[Pos] == 'E')) {
      Integer = false;
      ++Pos;
      if (Pos < Text.size() && (Text[Pos] == '+' || Text[Pos] == '-'))
        ++Pos;
      if (!Digits())
        return fail("expected digits in exponent");
    }
    std::string Literal(Text.substr(Start, Pos - Start));
    V.K = JsonValue::Kind::Number;
    V.Number = std::strtod(Literal.c_str(), nullptr);
    if (Integer) {
      errno = 0;
      long long I = std::strtoll(Literal.c_str(), nullptr, 10);
      if (errno == 0) {
        V.IsInteger = true;
        V.Integer = I;
      }
    }
    return Status();
  }
};

} // namespace

Expected<JsonValue> parseJson(std::string_view Text, uint64_t BaseOffset) {
  return JsonParser(Text, BaseOffset).parseDocument();
}

std::string quoteJson(std::string_view S) {
  static const char Hex[] = "0123456789abcdef";
  std::string Out = "\"";
  for (unsigned char C : S) {
    if (C == '"' || C == '\\') {
      Out += '\\';
      Out += char(C);
    } else if (C < 0x20) {
      Out += "\\u00";
      Out += Hex[C >> 4];
      Out += Hex[C & 15];
    } else {
      Out += char(C);
    }
  }
  return Out + "\"";
}

} // namespace nnc::rt
