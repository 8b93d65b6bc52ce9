#include "app/scenario_file.hh"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "base/edit_distance.hh"

namespace horde::app {
namespace {

// Thrown while walking the document and turned into a result at the edge:
// yaml-cpp throws anyway, and one throw per check keeps each check one line.
// Cold path: a file is read once per run.
struct load_error {
  std::string message;
};

// A block whose fields are flags: `lifecycle: {lifetime: 60s}` is --lifetime.
struct flag_block {
  const char* name;
  const char* prefix;  // field "every" of heartbeat is the flag "heartbeat-every"
  std::vector<std::string> fields;
};

const std::vector<flag_block>& flag_blocks() {
  static const std::vector<flag_block> blocks = {
      {"lifecycle",
       "",
       {"lifetime", "lifetime-jitter", "reconnect", "backoff-base", "backoff-cap", "max-attempts",
        "chaos-rate", "chaos-mode"}},
      {"heartbeat", "heartbeat-", {"every", "send", "expect", "timeout"}},
  };
  return blocks;
}

// The blocks that are not flags, and the fields of each entry.
const std::vector<std::string> feeder_fields = {"file", "mode"};
const std::vector<std::string> http_fields = {"name", "method", "url",     "headers",
                                              "body", "expect", "capture", "timeout"};
const std::vector<std::string> setup_fields = {
    "name",    "method",         "url",   "headers",        "body", "expect",     "capture",
    "timeout", "for-each-group", "batch", "batch-template", "rate", "concurrency"};
const std::vector<std::string> capture_fields = {"json", "header"};
const std::vector<std::string> jwt_fields = {"alg", "secret", "key-file", "claims"};
const std::vector<std::string> request_fields = {"name",   "send",        "format", "rate",
                                                 "match",  "match-value", "error",  "timeout",
                                                 "stream", "end",         "count"};

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a value";
    default:
      return "nothing";
  }
}

class reader {
 public:
  reader(std::string name, const std::vector<flag_key>& flags)
      : _name(std::move(name)), _flags(flags) {
    _dir = std::filesystem::path(_name).parent_path();
  }

  scenario_file read(const YAML::Node& root) {
    _out.spec.source_file = _name;
    if (root.IsNull()) return std::move(_out);
    if (!root.IsMap())
      fail(root, fmt::format("a scenario is a map of keys (connections: 1000, ...), not {}",
                             type_name(root)));
    check_keys(root, "", top_level_keys());
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node value = kv.second;
      const YAML::Node at = kv.first;
      if (key == "scenario")
        fail(at, "'scenario' cannot be a key: a scenario file does not name another");
      if (key == "feeder" || key == "feeders") {
        once("feeders", at, key);
        read_feeders(value, at, key);
      } else if (key == "http" || key == "setup") {
        read_http(value, at, key);
      } else if (key == "jwt") {
        read_jwt(value, at);
      } else if (key == "requests") {
        read_requests(value, at);
      } else if (const flag_block* block = find_block(key)) {
        read_flag_block(*block, value, at);
      } else if (const flag_key* flag = find_flag(key)) {
        read_flag(*flag, value, at, key);
      } else {  // check_keys let it through: the plural of a repeatable flag
        read_flag(*find_flag(key.substr(0, key.size() - 1)), value, at, key);
      }
    }
    if (_request_flag && !_out.spec.requests.empty())
      fail(*_request_flag,
           "'request' (one request, the --request flag) and 'requests' (a list) are both "
           "given: move it into 'requests'");
    return std::move(_out);
  }

 private:
  // ---- positions and errors ----

  spec_origin origin(const YAML::Node& node, const std::string& path) const {
    const YAML::Mark mark = node.Mark();
    return spec_origin{_name, mark.line + 1, mark.column + 1, path};
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) throw load_error{fmt::format("{}: {}", _name, message)};
    throw load_error{fmt::format("{}:{}:{}: {}", _name, mark.line + 1, mark.column + 1, message)};
  }

  // Errors about a value point at it, or at its key when it has no place
  // of its own (an empty value).
  [[noreturn]] void fail_at(const YAML::Node& value, const YAML::Node& key,
                            const std::string& message) const {
    fail(value.Mark().is_null() || value.IsNull() ? key : value, message);
  }

  // Every key of `map` is one of `valid`, and appears once.
  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& valid) const {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar())
        fail(kv.first, "a key is a name, not " + std::string(type_name(kv.first)));
      const std::string key = kv.first.Scalar();
      const std::string where = path.empty() ? "" : " in " + path;
      if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
        const std::string near = nearest_key(key, valid);
        fail(kv.first, near.empty() ? fmt::format("unknown key '{}'{}", key, where)
                                    : fmt::format("unknown key '{}'{} (did you mean '{}'?)", key,
                                                  where, near));
      }
      const auto [first, fresh] = seen.emplace(key, kv.first.Mark());
      if (!fresh)
        fail(kv.first, fmt::format("'{}'{} is given twice (first at line {})", key, where,
                                   first->second.line + 1));
    }
  }

  // Two spellings of one thing (header/headers, lifetime/lifecycle.lifetime).
  void once(const std::string& thing, const YAML::Node& at, const std::string& path) {
    const auto [first, fresh] = _set.emplace(thing, origin(at, path));
    if (!fresh)
      fail(at, fmt::format("'{}' sets what '{}' at line {} already set", path, first->second.key,
                           first->second.line));
  }

  // ---- values ----

  // ${NAME} and ${NAME:-default} from the environment, $$ for a literal $:
  // what differs between runs (ports, hosts, secrets) stays out of the file.
  std::string expand(const std::string& text, const YAML::Node& node,
                     const std::string& path) const {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '$' || i + 1 == text.size()) {
        out += text[i];
      } else if (text[i + 1] == '$') {
        out += '$';
        ++i;
      } else if (text[i + 1] == '{') {
        const size_t end = text.find('}', i + 2);
        if (end == std::string::npos)
          fail(node, fmt::format("'{}': '${{' without its '}}' (write $$ for a literal $)", path));
        const std::string inner = text.substr(i + 2, end - i - 2);
        const size_t dash = inner.find(":-");
        const std::string var = inner.substr(0, dash);
        const char* env = std::getenv(var.c_str());
        if (env != nullptr && *env != '\0') {
          out += env;
        } else if (dash != std::string::npos) {
          out += inner.substr(dash + 2);
        } else {
          fail(node, fmt::format("'{}': the environment variable {} is not set (export it, or "
                                 "write ${{{}:-default}})",
                                 path, var, var));
        }
        i = end;
      } else {
        out += text[i];
      }
    }
    return out;
  }

  std::string text(const YAML::Node& value, const YAML::Node& key, const std::string& path) const {
    if (value.IsScalar()) return expand(value.Scalar(), value, path);
    if (value.IsMap() && (path.ends_with("send") || path.ends_with("body")))
      fail_at(value, key,
              fmt::format("'{}' takes a string, not a map: quote a JSON template, e.g. "
                          "'{{\"id\":{{seq}}}}'",
                          path));
    fail_at(value, key, fmt::format("'{}' takes a value, not {}", path, type_name(value)));
  }

  bool boolean(const YAML::Node& value, const YAML::Node& key, const std::string& path) const {
    bool b = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, b))
      fail_at(value, key,
              fmt::format("'{}' is true or false, not '{}'", path,
                          value.IsScalar() ? value.Scalar() : type_name(value)));
    return b;
  }

  uint32_t number(const YAML::Node& value, const YAML::Node& key, const std::string& path) const {
    const std::string s = text(value, key, path);
    uint32_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
      fail_at(value, key, fmt::format("'{}' is a whole number, not '{}'", path, s));
    return n;
  }

  void need(const YAML::Node& value, const YAML::Node& key, const std::string& path,
            YAML::NodeType::value type, const char* what) const {
    if (value.Type() != type)
      fail_at(value, key, fmt::format("'{}' takes {}, not {}", path, what, type_name(value)));
  }

  // A file named in a block is found beside the scenario, so the scenario
  // runs from any directory.
  std::string beside(const std::string& file) const {
    if (file.empty() || std::filesystem::path(file).is_absolute() || _dir.empty()) return file;
    return (_dir / file).lexically_normal().string();
  }

  // ---- flags ----

  std::vector<std::string> top_level_keys() const {
    // "scenario" is here to be refused by name, not as an unknown key.
    std::vector<std::string> keys = {"feeders", "feeder",   "http",    "setup",
                                     "jwt",     "requests", "scenario"};
    for (const flag_block& b : flag_blocks())
      keys.push_back(b.name);
    for (const flag_key& f : _flags) {
      keys.push_back(f.name);
      if (f.takes_list && f.name != "feeder") keys.push_back(f.name + "s");
    }
    return keys;
  }

  const flag_key* find_flag(const std::string& name) const {
    for (const flag_key& f : _flags)
      if (f.name == name) return &f;
    return nullptr;
  }

  static const flag_block* find_block(const std::string& name) {
    for (const flag_block& b : flag_blocks())
      if (name == b.name) return &b;
    return nullptr;
  }

  void read_flag(const flag_key& flag, const YAML::Node& value, const YAML::Node& key,
                 const std::string& path) {
    once(flag.name, key, path);
    flag_value out{flag.name, {}, origin(key, path)};
    if (value.IsSequence()) {
      if (!flag.takes_list)
        fail_at(value, key,
                fmt::format("'{}' takes one value (it is --{}), not a list", path, flag.name));
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item = fmt::format("{}[{}]", path, i);
        out.values.push_back(text(value[i], value[i], item));
      }
    } else if (value.IsScalar() && flag.is_switch) {
      out.values.push_back(boolean(value, key, path) ? "true" : "false");
    } else if (value.IsScalar()) {
      out.values.push_back(text(value, key, path));
    } else if (value.IsMap()) {
      const std::string hint =
          flag.name == "request" ? "; a full request is an entry of 'requests:'" : "";
      fail_at(value, key,
              fmt::format("'{}' takes {} (it is --{}), not a map{}", path,
                          flag.takes_list ? "a value or a list" : "one value", flag.name, hint));
    } else {
      fail_at(value, key, fmt::format("'{}' has no value", path));
    }
    if (flag.name == "request") _request_flag = key;
    _out.flags.push_back(std::move(out));
  }

  void read_flag_block(const flag_block& block, const YAML::Node& value, const YAML::Node& key) {
    need(value, key, block.name, YAML::NodeType::Map, "a map of settings");
    check_keys(value, block.name, block.fields);
    (block.name == std::string("lifecycle") ? _out.lifecycle_origin : _out.heartbeat_origin) =
        origin(key, block.name);
    for (const auto& kv : value) {
      const std::string field = kv.first.Scalar();
      const flag_key* flag = find_flag(block.prefix + field);
      if (flag == nullptr)
        fail(kv.first, fmt::format("{}.{}: this horde has no --{}{} flag", block.name, field,
                                   block.prefix, field));
      read_flag(*flag, kv.second, kv.first, fmt::format("{}.{}", block.name, field));
    }
  }

  // ---- blocks ----

  void read_feeders(const YAML::Node& value, const YAML::Node& key, const std::string& path) {
    if (value.IsSequence()) {
      for (size_t i = 0; i < value.size(); ++i)
        read_feeder(value[i], value[i], fmt::format("{}[{}]", path, i));
    } else {
      read_feeder(value, key, path);
    }
  }

  void read_feeder(const YAML::Node& value, const YAML::Node& key, const std::string& path) {
    feeder_spec feeder;
    feeder.origin = origin(key, path);
    if (value.IsScalar()) {
      feeder.file = beside(text(value, key, path));
    } else if (value.IsMap()) {
      check_keys(value, path, feeder_fields);
      if (!value["file"])
        fail(key,
             fmt::format("'{}' needs 'file' (a CSV file; its header names the variables)", path));
      feeder.file = beside(text(value["file"], key, path + ".file"));
      if (value["mode"]) feeder.mode = text(value["mode"], key, path + ".mode");
    } else {
      fail_at(value, key,
              fmt::format("'{}' takes a CSV file, {{file, mode}}, or a list of them; not {}", path,
                          type_name(value)));
    }
    _out.spec.feeders.push_back(std::move(feeder));
  }

  // `http:` (per connection) or `setup:` (once for the run, with a few
  // more fields): the same steps.
  void read_http(const YAML::Node& value, const YAML::Node& key, const std::string& block) {
    const bool setup = block == "setup";
    need(value, key, block, YAML::NodeType::Sequence, "a list of steps (- url: ...)");
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& step_node = value[i];
      const std::string path = fmt::format("{}[{}]", block, i);
      need(step_node, step_node, path, YAML::NodeType::Map, "a map (url, method, ...)");
      check_keys(step_node, path, setup ? setup_fields : http_fields);
      http_step_spec step;
      step.origin = origin(step_node, path);
      for (const auto& kv : step_node) {
        const std::string field = kv.first.Scalar();
        const std::string at = path + "." + field;
        const YAML::Node v = kv.second;
        if (field == "name") step.name = text(v, kv.first, at);
        if (field == "method") step.method = text(v, kv.first, at);
        if (field == "url") step.url = text(v, kv.first, at);
        if (field == "body") step.body = text(v, kv.first, at);
        if (field == "timeout") step.timeout = text(v, kv.first, at);
        if (field == "headers") step.headers = read_headers(v, kv.first, at);
        if (field == "expect") step.expect_status = read_statuses(v, kv.first, at);
        if (field == "capture") step.captures = read_captures(v, kv.first, at);
        if (setup) read_group_fields(field, v, kv.first, at, step);
      }
      if (step.url.empty()) fail(step_node, fmt::format("'{}' needs a 'url'", path));
      (setup ? _out.spec.setup_steps : _out.spec.http_steps).push_back(std::move(step));
    }
  }

  // A setup step's fields for repeating it per group.
  void read_group_fields(const std::string& field, const YAML::Node& v, const YAML::Node& key,
                         const std::string& at, http_step_spec& step) {
    if (field == "for-each-group") step.for_each_group = boolean(v, key, at);
    if (field == "batch") step.batch = number(v, key, at);
    if (field == "batch-template") step.batch_template = text(v, key, at);
    if (field == "rate") step.rate = text(v, key, at);
    if (field == "concurrency") step.concurrency = number(v, key, at);
  }

  // `- "Name: value"` items, or a map of Name: value.
  std::vector<std::string> read_headers(const YAML::Node& value, const YAML::Node& key,
                                        const std::string& path) const {
    std::vector<std::string> headers;
    if (value.IsMap()) {
      for (const auto& kv : value)
        headers.push_back(kv.first.Scalar() + ": " +
                          text(kv.second, kv.first, path + "." + kv.first.Scalar()));
    } else if (value.IsSequence()) {
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item = fmt::format("{}[{}]", path, i);
        std::string header = text(value[i], value[i], item);
        if (header.find(':') == std::string::npos)
          fail(value[i], fmt::format("'{}' is 'Name: value', not '{}'", item, header));
        headers.push_back(std::move(header));
      }
    } else {
      fail_at(value, key,
              fmt::format("'{}' takes a list of 'Name: value' or a map, not {}", path,
                          type_name(value)));
    }
    return headers;
  }

  std::vector<int> read_statuses(const YAML::Node& value, const YAML::Node& key,
                                 const std::string& path) const {
    std::vector<int> statuses;
    auto one = [&](const YAML::Node& v, const std::string& at) {
      const uint32_t status = number(v, key, at);
      if (status < 100 || status > 599)
        fail_at(v, key, fmt::format("'{}' is an HTTP status (100-599), not {}", at, status));
      statuses.push_back(int(status));
    };
    if (value.IsSequence()) {
      for (size_t i = 0; i < value.size(); ++i)
        one(value[i], fmt::format("{}[{}]", path, i));
    } else {
      one(value, path);
    }
    return statuses;
  }

  std::vector<capture_spec> read_captures(const YAML::Node& value, const YAML::Node& key,
                                          const std::string& path) const {
    need(value, key, path, YAML::NodeType::Map,
         "a map of variable: {json: /ptr} or {header: Name}");
    std::vector<capture_spec> captures;
    for (const auto& kv : value) {
      capture_spec capture;
      capture.variable = kv.first.Scalar();
      const std::string at = path + "." + capture.variable;
      capture.origin = origin(kv.first, at);
      const bool name_ok =
          !capture.variable.empty() &&
          std::all_of(capture.variable.begin(), capture.variable.end(),
                      [](char c) { return std::isalnum((unsigned char)c) || c == '_'; }) &&
          !std::isdigit((unsigned char)capture.variable[0]);
      if (!name_ok)
        fail(kv.first, fmt::format("'{}': a variable name is letters, digits and _", at));
      const YAML::Node how = kv.second;
      need(how, kv.first, at, YAML::NodeType::Map, "{json: /pointer} or {header: Name}");
      check_keys(how, at, capture_fields);
      if (how.size() != 1) fail(kv.first, fmt::format("'{}' takes one of json or header", at));
      if (how["json"]) {
        capture.json = text(how["json"], kv.first, at + ".json");
        if (!capture.json.empty() && capture.json[0] != '/')
          fail(how["json"], fmt::format("'{}.json' is a JSON pointer starting with '/', e.g. "
                                        "/token, not '{}'",
                                        at, capture.json));
      } else {
        capture.header = text(how["header"], kv.first, at + ".header");
      }
      captures.push_back(std::move(capture));
    }
    return captures;
  }

  void read_jwt(const YAML::Node& value, const YAML::Node& key) {
    need(value, key, "jwt", YAML::NodeType::Map, "a map (alg, secret or key-file, claims)");
    check_keys(value, "jwt", jwt_fields);
    jwt_spec jwt;
    jwt.origin = origin(key, "jwt");
    if (value["alg"]) jwt.algorithm = text(value["alg"], key, "jwt.alg");
    if (value["secret"]) jwt.secret = text(value["secret"], key, "jwt.secret");
    if (value["key-file"]) jwt.key_file = beside(text(value["key-file"], key, "jwt.key-file"));
    if (jwt.secret.empty() && jwt.key_file.empty())
      fail(key, "'jwt' needs 'secret' (HS256) or 'key-file' (RS256, ES256)");
    if (const YAML::Node claims = value["claims"]) {
      need(claims, key, "jwt.claims", YAML::NodeType::Map, "a map of claim: template");
      for (const auto& kv : claims) {
        const std::string name = kv.first.Scalar();
        jwt.claims.push_back({name, text(kv.second, kv.first, "jwt.claims." + name)});
      }
    }
    _out.spec.jwt.push_back(std::move(jwt));
  }

  void read_requests(const YAML::Node& value, const YAML::Node& key) {
    need(value, key, "requests", YAML::NodeType::Sequence, "a list of requests (- send: ...)");
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& node = value[i];
      const std::string path = fmt::format("requests[{}]", i);
      need(node, node, path, YAML::NodeType::Map, "a map (send, match, ...)");
      check_keys(node, path, request_fields);
      request_spec request;
      request.origin = origin(node, path);
      std::set<std::string> keys;
      for (const auto& kv : node) {
        const std::string field = kv.first.Scalar();
        const std::string at = path + "." + field;
        const YAML::Node v = kv.second;
        keys.insert(field);
        if (field == "name") request.name = text(v, kv.first, at);
        if (field == "send") request.send = text(v, kv.first, at);
        if (field == "format") request.format = text(v, kv.first, at);
        if (field == "rate") request.rate = text(v, kv.first, at);
        if (field == "match") request.match = text(v, kv.first, at);
        if (field == "match-value") request.match_value = text(v, kv.first, at);
        if (field == "error") request.error = text(v, kv.first, at);
        if (field == "timeout") request.timeout = text(v, kv.first, at);
        if (field == "stream") request.stream = boolean(v, kv.first, at);
        if (field == "end") request.end = text(v, kv.first, at);
        if (field == "count") request.count = number(v, kv.first, at);
      }
      if (request.send.empty()) fail(node, fmt::format("'{}' needs 'send' (a template)", path));
      _out.spec.requests.push_back(std::move(request));
      _out.request_keys.push_back(std::move(keys));
    }
  }

  std::string _name;
  std::filesystem::path _dir;
  const std::vector<flag_key>& _flags;
  scenario_file _out;
  std::map<std::string, spec_origin> _set;  // each flag or block, where it was first set
  std::optional<YAML::Node> _request_flag;  // the `request:` key, if given
};

CLI::Option* find_option(CLI::App& run_cmd, const std::string& name) {
  for (CLI::Option* opt : run_cmd.get_options()) {
    if (opt->check_lname(name)) return opt;
    if (opt->get_positional() && opt->get_single_name() == name) return opt;
  }
  return nullptr;
}

}  // namespace

result<scenario_file> parse_scenario_text(const std::string& text, const std::string& name,
                                          const std::vector<flag_key>& flags) {
  try {
    const YAML::Node root = YAML::Load(text);
    return reader(name, flags).read(root);
  } catch (const load_error& e) {
    return make_error(e.message);
  } catch (const YAML::ParserException& e) {
    return make_error(
        fmt::format("{}:{}:{}: YAML syntax: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const YAML::Exception& e) {
    return make_error(fmt::format("{}: {}", name, e.what()));
  }
}

result<scenario_file> read_scenario_file(const std::string& path,
                                         const std::vector<flag_key>& flags) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(
        fmt::format("--scenario {}: cannot open it ({})", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario_text(text.str(), path, flags);
}

std::vector<flag_key> flag_keys(const CLI::App& run_cmd) {
  std::vector<flag_key> keys;
  for (const CLI::Option* opt : run_cmd.get_options()) {
    if (opt == run_cmd.get_help_ptr() || opt->check_lname("scenario")) continue;
    if (opt->get_lnames().empty() && !opt->get_positional()) continue;
    keys.push_back(flag_key{opt->get_single_name(), opt->get_items_expected_max() > 1,
                            opt->get_expected_max() == 0, opt->get_group()});
  }
  return keys;
}

result<void> apply_flag_values(const scenario_file& file, CLI::App& run_cmd,
                               const std::set<const CLI::Option*>& given) {
  for (const flag_value& value : file.flags) {
    CLI::Option* opt = find_option(run_cmd, value.flag);
    if (opt == nullptr) return make_error(fmt::format("no option for key '{}'", value.flag));
    if (given.count(opt) != 0) continue;
    try {
      opt->add_result(value.values);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      const spec_origin& o = value.origin;
      return make_error(
          fmt::format("{}:{}:{}: '{}': {}", o.file, o.line, o.column, o.key, e.what()));
    }
  }
  return {};
}

// The typos people make in keys are a missing, extra, wrong or swapped letter
// (base/edit_distance.hh).
std::string nearest_key(const std::string& name, const std::vector<std::string>& candidates) {
  // A third of the name, 1 to 3 edits: 'conections' finds 'connections',
  // 'foo' finds nothing.
  const size_t limit = std::clamp<size_t>(name.size() / 3, 1, 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t d = edit_distance(name, candidate, limit);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace horde::app
