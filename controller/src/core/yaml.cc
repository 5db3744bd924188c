#include "plumbline/yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <unordered_set>

#include "plumbline/path.h"

namespace plumbline {
namespace {

// yaml-cpp 0.7 recurses once per nesting level and overflows the stack on very deep flow
// collections ("[[[[..."), so deep input is refused before it reaches the parser.
constexpr int kMaxFlowDepth = 256;

// YAML forbids NUL; a NUL also makes yaml-cpp 0.7 guess UTF-16 and loop forever (found by
// fuzzing), so it is refused here. UTF-16/32 files contain NULs and are refused too.
Status check_no_nul(std::string_view text, std::string_view file) {
  auto nul = text.find('\0');
  if (nul == std::string_view::npos) return {};
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(nul), '\n'));
  return invalid_input("file contains a NUL byte (binary, or not UTF-8?)",
                       std::string(file) + ":" + std::to_string(line));
}

Status check_flow_depth(std::string_view text, std::string_view file) {
  int depth = 0;
  int line = 1;
  char quote = 0;
  bool comment = false;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      comment = false;
      quote = quote == '"' ? quote : 0;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#') comment = true;
    else if (c == '"' || c == '\'') quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) {
        return invalid_input("YAML nested deeper than " + std::to_string(kMaxFlowDepth) + " levels",
                             std::string(file) + ":" + std::to_string(line));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (s == o) return true;
  }
  return false;
}

// Resolves a plain (unquoted) scalar the way Kubernetes' YAML reader does (YAML 1.1 core).
json resolve_plain(const std::string& s) {
  if (s.empty() || is_one_of(s, {"~", "null", "Null", "NULL"})) return nullptr;
  if (is_one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (is_one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) return false;
  const char c0 = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c0)) || c0 == '-' || c0 == '+' || c0 == '.')) {
    return s;
  }
  if (is_one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return s;  // not JSON
  // Integers: decimal, 0x hex, 0o octal, and YAML 1.1 leading-zero octal.
  std::string body = s;
  bool negative = false;
  if (body[0] == '-' || body[0] == '+') {
    negative = body[0] == '-';
    body.erase(0, 1);
  }
  auto all = [&](size_t from, auto pred) {
    if (from >= body.size()) return false;
    for (size_t i = from; i < body.size(); ++i) {
      if (!pred(static_cast<unsigned char>(body[i]))) return false;
    }
    return true;
  };
  int base = 0;
  size_t start = 0;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') &&
      all(2, [](unsigned char ch) { return std::isxdigit(ch) != 0; })) {
    base = 16, start = 2;
  } else if (body.size() > 2 && body[0] == '0' && body[1] == 'o' &&
             all(2, [](unsigned char ch) { return ch >= '0' && ch <= '7'; })) {
    base = 8, start = 2;
  } else if (body.size() > 1 && body[0] == '0' &&
             all(1, [](unsigned char ch) { return ch >= '0' && ch <= '7'; })) {
    base = 8, start = 1;
  } else if (all(0, [](unsigned char ch) { return std::isdigit(ch) != 0; })) {
    base = 10;
  }
  if (base != 0) {
    errno = 0;
    char* end = nullptr;
    unsigned long long magnitude = std::strtoull(body.c_str() + start, &end, base);
    if (errno == 0 && *end == '\0' && magnitude <= 9223372036854775807ULL) {
      auto v = static_cast<long long>(magnitude);
      return negative ? -v : v;
    }
    return s;  // out of range: keep the text rather than lose precision
  }
  // Floats: digits with '.' and/or an exponent, nothing else.
  bool digit = false, dot = false, exp = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char ch = body[i];
    if (std::isdigit(static_cast<unsigned char>(ch))) digit = true;
    else if (ch == '.' && !dot && !exp) dot = true;
    else if ((ch == 'e' || ch == 'E') && digit && !exp && i + 1 < body.size()) {
      exp = true;
      if (body[i + 1] == '+' || body[i + 1] == '-') ++i;
    } else {
      return s;
    }
  }
  if (!digit || (!dot && !exp)) return s;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(d)) return s;
  return d;
}

std::string where(std::string_view file, const YAML::Mark& mark) {
  std::string out(file);
  if (mark.line >= 0) out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return out;
}

struct Converter {
  std::string_view file;
  const YamlOptions& options;
  size_t nodes = 0;
  std::vector<std::pair<json::json_pointer, int>>* lines = nullptr;

  Result<json> convert(const YAML::Node& node, const json::json_pointer& at) {
    if (++nodes > options.max_nodes) {
      return invalid_input("YAML document expands to more than " + std::to_string(options.max_nodes) +
                               " nodes (alias bomb?)",
                           where(file, node.Mark()));
    }
    if (lines != nullptr && node.Mark().line >= 0) lines->emplace_back(at, node.Mark().line + 1);
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return json(nullptr);
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        const std::string& text = node.Scalar();
        if (tag == "!" || tag == "tag:yaml.org,2002:str") return json(text);
        if (tag == "?" || tag.empty()) return resolve_plain(text);
        if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
            tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
          json v = resolve_plain(text);
          if (v.is_string()) {
            return invalid_input("value '" + text + "' does not match its tag " + tag,
                                 where(file, node.Mark()));
          }
          return v;
        }
        return json(text);  // unknown tags (e.g. !!binary) keep their text
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        size_t i = 0;
        for (const auto& item : node) {
          PL_ASSIGN_OR_RETURN(json v, convert(item, at / i));
          out.push_back(std::move(v));
          ++i;
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            return invalid_input("mapping keys must be scalars", where(file, kv.first.Mark()));
          }
          std::string key = kv.first.Scalar();
          if (key == "<<" && kv.first.Tag() == "?") {  // merge key: copy missing entries
            PL_ASSIGN_OR_RETURN(json merged, convert(kv.second, at));
            if (!merged.is_object()) {
              return invalid_input("'<<' merge value must be a mapping", where(file, kv.second.Mark()));
            }
            for (auto& [k, v] : merged.items()) {
              if (!out.contains(k)) out[k] = v;
            }
            continue;
          }
          if (out.contains(key)) {
            return invalid_input("duplicate key '" + key + "'", where(file, kv.first.Mark()));
          }
          PL_ASSIGN_OR_RETURN(json v, convert(kv.second, at / key));
          out[key] = std::move(v);
        }
        return out;
      }
    }
    return json(nullptr);
  }
};

bool is_blank_document(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Does a plain scalar of this text read back as the same string?
bool needs_quoting(const std::string& s) {
  if (!resolve_plain(s).is_string()) return true;
  if (s.empty()) return true;
  return false;
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key;
        if (needs_quoting(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : value) emit(out, v);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      // A literal block keeps a final newline ("|"); yaml-cpp cannot write "|-", so text
      // with inner newlines but none at the end is double-quoted instead.
      if (needs_quoting(s)) out << YAML::DoubleQuoted;
      else if (s.find('\n') != std::string::npos) out << (s.back() == '\n' ? YAML::Literal : YAML::DoubleQuoted);
      out << s;
      break;
    }
    case json::value_t::boolean: out << (value.get<bool>() ? "true" : "false"); break;
    case json::value_t::null: out << YAML::Null; break;
    default: out << value.dump(); break;  // numbers: JSON spelling is valid YAML
  }
}

}  // namespace

Result<std::vector<YamlDocument>> parse_yaml_documents(std::string_view text, std::string_view file,
                                                       const YamlOptions& options) {
  PL_RETURN_IF_ERROR(check_no_nul(text, file));
  PL_RETURN_IF_ERROR(check_flow_depth(text, file));
  std::vector<YAML::Node> nodes;
  try {
    std::string owned(text);
    nodes = YAML::LoadAll(owned);
  } catch (const YAML::Exception& e) {
    return invalid_input("invalid YAML: " + e.msg, where(file, e.mark));
  } catch (const std::exception& e) {
    return invalid_input(std::string("invalid YAML: ") + e.what(), std::string(file));
  }
  std::vector<YamlDocument> docs;
  docs.reserve(nodes.size());
  for (const auto& node : nodes) {
    YamlDocument doc;
    doc.location = {std::string(file), node.Mark().line >= 0 ? node.Mark().line + 1 : 0, 0};
    std::vector<std::pair<json::json_pointer, int>> lines;
    Converter converter{file, options, 0, options.field_origins ? &lines : nullptr};
    try {
      PL_ASSIGN_OR_RETURN(doc.value, converter.convert(node, json::json_pointer{}));
    } catch (const YAML::Exception& e) {
      return invalid_input("invalid YAML: " + e.msg, where(file, e.mark));
    }
    if (options.field_origins && doc.value.is_object()) {
      auto fields = std::make_shared<FieldOrigins>();
      for (const auto& [pointer, line] : lines) {
        if (pointer.empty()) continue;
        fields->emplace(path::from_pointer(doc.value, pointer), SourceLocation{std::string(file), line, 0});
      }
      doc.fields = std::move(fields);
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

Result<json> parse_yaml(std::string_view text, std::string_view file) {
  if (is_blank_document(text)) return invalid_input("file is empty", std::string(file));
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, file));
  if (docs.size() != 1) {
    return invalid_input("expected one YAML document, found " + std::to_string(docs.size()),
                         std::string(file));
  }
  return std::move(docs.front().value);
}

std::string to_yaml(const json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

std::string to_yaml_stream(const std::vector<json>& documents) {
  std::string out;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) out += "---\n";
    out += to_yaml(documents[i]);
  }
  return out;
}

}  // namespace plumbline
