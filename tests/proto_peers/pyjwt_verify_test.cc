// proto/jwt against a JWT library no one here wrote: PyJWT (Debian's
// python3-jwt, with python3-cryptography for RS256 and ES256) decodes and
// verifies horde's tokens as a server would, claims and all, and rejects one
// whose claims were changed after signing.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "proto/jwt.hh"
#include "tests/support/process_run.hh"
#include "tests/support/tls_test_peer.hh"

namespace horde::proto {
namespace {

// argv: token, algorithm, key file (secret or public PEM), expected claims as
// JSON. Exit 0: verified and the claims match; 1: verified but different
// claims; 2: rejected (the exception's class is printed).
constexpr const char* verify_script = R"(
import json, sys, jwt
token, alg, key_path, expected = sys.argv[1:5]
key = open(key_path, 'rb').read()
try:
    claims = jwt.decode(token, key, algorithms=[alg], audience='horde-tests',
                        options={'require': ['exp', 'iat', 'sub']})
except jwt.PyJWTError as e:
    print(type(e).__name__, e)
    sys.exit(2)
header = jwt.get_unverified_header(token)
if header != {'alg': alg, 'typ': 'JWT'}:
    print('header', header)
    sys.exit(1)
if claims != json.loads(expected):
    print('claims', json.dumps(claims))
    sys.exit(1)
print('ok')
)";

bool python_imports(const char* module) {
  return test::run_process({HORDE_PYTHON, "-c", std::string("import ") + module}, 20000)
             .exit_code == 0;
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(n));
  BIO_free(bio);
  return pem;
}

std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(n));
  BIO_free(bio);
  return pem;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class pyjwt_verify : public testing::TestWithParam<jwt_algorithm> {
 protected:
  void SetUp() override {
    if (!python_imports("jwt")) GTEST_SKIP() << HORDE_PYTHON << " lacks python3-jwt (PyJWT)";
    if (GetParam() != jwt_algorithm::hs256 && !python_imports("cryptography")) {
      GTEST_SKIP() << HORDE_PYTHON << " lacks python3-cryptography, which PyJWT needs for "
                   << jwt_algorithm_name(GetParam());
    }
    // The signer gets the private PEM as text (the caller reads files); PyJWT
    // gets what a server holds: the secret, or the public key.
    std::string secret_or_pem, verify_key;
    if (GetParam() == jwt_algorithm::hs256) {
      secret_or_pem = verify_key = "a shared secret of at least 32 bytes, \x01 and all";
    } else {
      EVP_PKEY* key = GetParam() == jwt_algorithm::rs256
                          ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048))
                          : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      ASSERT_NE(key, nullptr);
      secret_or_pem = private_pem(key);
      verify_key = public_pem(key);
      EVP_PKEY_free(key);
    }
    _key_path = _dir.path() + "/verify.key";
    write_file(_key_path, verify_key);
    auto signer = jwt_signer::make(GetParam(), secret_or_pem);
    ASSERT_TRUE(signer) << signer.error().message;
    _signer.emplace(std::move(*signer));
  }

  test::process_outcome run_pyjwt(const std::string& token, const std::string& expected) {
    return test::run_process({HORDE_PYTHON, "-c", verify_script, token,
                              std::string(jwt_algorithm_name(GetParam())), _key_path, expected},
                             20000);
  }

  test::temp_dir _dir;
  std::string _key_path;
  std::optional<jwt_signer> _signer;
};

TEST_P(pyjwt_verify, accepts_horde_tokens_with_their_claims) {
  const std::string now = std::to_string(std::time(nullptr));
  const std::string exp = std::to_string(std::time(nullptr) + 3600);
  const jwt_claim_view claims[] = {
      {"sub", "1234567890", jwt_value_type::string},
      {"aud", "horde-tests"},
      {"iat", now},
      {"exp", exp},
      {"admin", "true"},
      {"name", "J\xc3\xbcrgen \"the tester\"\n\\"},
      {"level", "-7"},
  };
  std::string json;
  encode_claims(json, claims);
  // The claims PyJWT must hand back (compared as parsed objects).
  const std::string expected = R"({"sub": "1234567890", "aud": "horde-tests", "iat": )" + now +
                               R"(, "exp": )" + exp +
                               R"(, "admin": true, "name": "J\u00fcrgen \"the tester\"\n\\", )"
                               R"("level": -7})";
  // Several tokens from one signer: ES256 signatures differ each time, and
  // R or S with leading zero bytes must come out right in all of them.
  for (int i = 0; i < 5; ++i) {
    const std::string token = _signer->sign(json);
    const auto outcome = run_pyjwt(token, expected);
    ASSERT_EQ(outcome.exit_code, 0)
        << "token " << token << "\nstdout: " << outcome.out << "\nstderr: " << outcome.err;
    EXPECT_EQ(outcome.out, "ok\n");
  }
}

TEST_P(pyjwt_verify, rejects_a_tampered_token) {
  const std::string exp = std::to_string(std::time(nullptr) + 3600);
  std::string json;
  const jwt_claim_view claims[] = {
      {"sub", "user-1"}, {"aud", "horde-tests"}, {"iat", "1700000000"}, {"exp", exp}};
  encode_claims(json, claims);
  const std::string token = _signer->sign(json);
  const std::string expected = R"({"sub": "user-1", "aud": "horde-tests", "iat": 1700000000, )"
                               R"("exp": )" +
                               exp + "}";
  ASSERT_EQ(run_pyjwt(token, expected).exit_code, 0);

  // The same signature over other claims (user-2 instead of user-1).
  std::string forged_json = json;
  forged_json.replace(forged_json.find("user-1"), 6, "user-2");
  const std::string forged = _signer->sign(forged_json);
  const std::string tampered = forged.substr(0, forged.rfind('.')) + token.substr(token.rfind('.'));
  const auto outcome = run_pyjwt(tampered, expected);
  EXPECT_EQ(outcome.exit_code, 2) << outcome.out << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with("InvalidSignatureError")) << outcome.out << outcome.err;
}

INSTANTIATE_TEST_SUITE_P(algorithms, pyjwt_verify,
                         testing::Values(jwt_algorithm::hs256, jwt_algorithm::rs256,
                                         jwt_algorithm::es256),
                         [](const testing::TestParamInfo<jwt_algorithm>& info) {
                           return std::string(jwt_algorithm_name(info.param));
                         });

}  // namespace
}  // namespace horde::proto
