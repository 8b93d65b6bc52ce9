#include "proto/jwt.hh"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace horde::proto {
namespace {

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

pkey_ptr generate_rsa(size_t bits) {
  return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), EVP_PKEY_free);
}

pkey_ptr generate_ec(const char* curve) {
  return pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free);
}

// PKCS#8 PEM; with a passphrase, encrypted with AES-256-CBC.
std::string private_pem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, cipher, nullptr, 0, nullptr,
                                     const_cast<char*>(passphrase)),
            1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(n));
  BIO_free(bio);
  return pem;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return std::nullopt;
    }
    bits = bits << 6 | uint32_t(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += char((bits >> count) & 0xff);
    }
  }
  return out;
}

struct token_parts {
  std::string signing_input;  // header.claims
  std::string header, claims, signature;
};

token_parts split(std::string_view token) {
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  EXPECT_NE(first, std::string_view::npos);
  EXPECT_NE(second, std::string_view::npos);
  EXPECT_EQ(token.find('.', second + 1), std::string_view::npos);
  token_parts p;
  p.signing_input = token.substr(0, second);
  p.header = base64url_decode(token.substr(0, first)).value_or("<bad base64url>");
  p.claims = base64url_decode(token.substr(first + 1, second - first - 1)).value_or("<bad>");
  p.signature = base64url_decode(token.substr(second + 1)).value_or("<bad>");
  return p;
}

// OpenSSL verifies, independently of horde's signing path.
bool verify(EVP_PKEY* key, const std::string& input, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const uint8_t*>(signature.data()), signature.size(),
                       reinterpret_cast<const uint8_t*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// JOSE's R||S back to the DER OpenSSL verifies.
std::string raw_to_der(const std::string& raw) {
  if (raw.size() != 64) return {};
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  uint8_t* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig, &der);
  std::string out(reinterpret_cast<char*>(der), size_t(n));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string claims_of(std::initializer_list<jwt_claim_view> claims) {
  std::string out;
  encode_claims(out, std::span<const jwt_claim_view>(claims.begin(), claims.size()));
  return out;
}

TEST(jwt, parses_algorithm_names) {
  EXPECT_EQ(*parse_jwt_algorithm("HS256"), jwt_algorithm::hs256);
  EXPECT_EQ(*parse_jwt_algorithm("RS256"), jwt_algorithm::rs256);
  EXPECT_EQ(*parse_jwt_algorithm("ES256"), jwt_algorithm::es256);
  for (const jwt_algorithm a : {jwt_algorithm::hs256, jwt_algorithm::rs256, jwt_algorithm::es256})
    EXPECT_EQ(*parse_jwt_algorithm(jwt_algorithm_name(a)), a);
  const auto bad = parse_jwt_algorithm("hs256");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'hs256'"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("HS256, RS256 or ES256"), std::string::npos);
  EXPECT_FALSE(parse_jwt_algorithm("none"));
}

TEST(jwt, base64url_has_no_padding_and_url_alphabet) {
  const uint8_t bytes[] = {'f', 'o', 'o', 'b', 'a', 'r'};
  const char* expected[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (size_t n = 0; n <= 6; ++n) {
    char out[16] = {};
    ASSERT_EQ(base64url_length(n), std::strlen(expected[n]));
    base64url_encode(bytes, n, out);
    EXPECT_STREQ(out, expected[n]) << n;
  }
  std::string out = "x";
  base64url_append(out, "\xfb\xff\xbf");  // standard base64: "+/+/"
  EXPECT_EQ(out, "x-_-_");
}

TEST(jwt, hs256_matches_the_jwt_io_example) {
  // The example token on jwt.io (header and payload bytes exactly as there).
  auto signer = jwt_signer::make(jwt_algorithm::hs256, "your-256-bit-secret");
  ASSERT_TRUE(signer) << signer.error().message;
  EXPECT_EQ(signer->encoded_header(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
  const std::string payload = R"({"sub":"1234567890","name":"John Doe","iat":1516239022})";
  EXPECT_EQ(signer->sign(payload),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // The same payload from claims: `sub` only looks numeric, so it is forced to a string.
  EXPECT_EQ(claims_of({{"sub", "1234567890", jwt_value_type::string},
                       {"name", "John Doe"},
                       {"iat", "1516239022"}}),
            payload);
}

TEST(jwt, hs256_agrees_with_openssl_hmac_for_every_key_length_class) {
  // Below, at and above the 64-byte block (longer keys are hashed first,
  // RFC 2104 2), and inputs spanning several blocks.
  for (const size_t key_size : {1, 31, 32, 63, 64, 65, 200}) {
    std::string key(key_size, '\0');
    for (size_t i = 0; i < key_size; ++i)
      key[i] = char(i * 7 + 1);
    auto signer = jwt_signer::make(jwt_algorithm::hs256, key);
    ASSERT_TRUE(signer) << signer.error().message;
    for (const size_t claims_size : {0, 10, 100, 1000}) {
      const std::string claims(claims_size, 'c');
      std::string token = "prefix ";  // sign() appends: what is there stays
      signer->sign(token, claims);
      ASSERT_TRUE(token.starts_with("prefix "));
      const token_parts parts = split(std::string_view(token).substr(7));
      uint8_t mac[32];
      unsigned mac_size = 0;
      HMAC(EVP_sha256(), key.data(), int(key.size()),
           reinterpret_cast<const uint8_t*>(parts.signing_input.data()), parts.signing_input.size(),
           mac, &mac_size);
      EXPECT_EQ(parts.signature, std::string(reinterpret_cast<char*>(mac), mac_size))
          << key_size << " " << claims_size;
      EXPECT_EQ(parts.claims, claims);
    }
  }
}

TEST(jwt, hs256_refuses_an_empty_secret) {
  const auto signer = jwt_signer::make(jwt_algorithm::hs256, "");
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().message, "JWT HS256: the secret is empty");
}

TEST(jwt, claims_infer_numbers_and_booleans) {
  EXPECT_EQ(claims_of({}), "{}");
  EXPECT_EQ(claims_of({{"exp", "1700003600"}, {"admin", "true"}, {"guest", "false"}}),
            R"({"exp":1700003600,"admin":true,"guest":false})");
  EXPECT_EQ(
      claims_of(
          {{"a", "0"}, {"b", "-5"}, {"c", "9223372036854775807"}, {"d", "-9223372036854775808"}}),
      R"({"a":0,"b":-5,"c":9223372036854775807,"d":-9223372036854775808})");
  // Not integers JSON-wise, or not int64: strings, as written.
  EXPECT_EQ(claims_of({{"a", "01"},
                       {"b", "-0"},
                       {"c", "9223372036854775808"},
                       {"d", "-9223372036854775809"},
                       {"e", "1.5"},
                       {"f", "+1"},
                       {"g", "-"},
                       {"h", ""},
                       {"i", "True"},
                       {"j", "1e3"},
                       {"k", " 1"},
                       {"l", "null"}}),
            R"({"a":"01","b":"-0","c":"9223372036854775808","d":"-9223372036854775809",)"
            R"("e":"1.5","f":"+1","g":"-","h":"","i":"True","j":"1e3","k":" 1","l":"null"})");
  EXPECT_EQ(claims_of({{"n", "42", jwt_value_type::string}, {"t", "true", jwt_value_type::string}}),
            R"({"n":"42","t":"true"})");
}

TEST(jwt, claims_escape_names_and_values) {
  EXPECT_EQ(claims_of({{"q\"k", "say \"hi\""}, {"path", "C:\\tmp"}}),
            R"({"q\"k":"say \"hi\"","path":"C:\\tmp"})");
  EXPECT_EQ(claims_of({{"ctl", std::string_view("a\nb\tc\x01\x1f\0d", 9)}}),
            R"({"ctl":"a\u000ab\u0009c\u0001\u001f\u0000d"})");
  // UTF-8, DEL and '/' need no escape.
  EXPECT_EQ(claims_of({{"name", "J\xc3\xbcrgen/\x7f"}}), "{\"name\":\"J\xc3\xbcrgen/\x7f\"}");
  // The owning form converts.
  const std::vector<jwt_claim> owned = {{"sub", "u-1"}, {"exp", "99"}};
  const std::vector<jwt_claim_view> views(owned.begin(), owned.end());
  std::string out;
  encode_claims(out, views);
  EXPECT_EQ(out, R"({"sub":"u-1","exp":99})");
}

TEST(jwt, rs256_signs_what_openssl_verifies) {
  const pkey_ptr key = generate_rsa(2048);
  ASSERT_TRUE(key);
  auto signer = jwt_signer::make(jwt_algorithm::rs256, private_pem(key.get()));
  ASSERT_TRUE(signer) << signer.error().message;
  const std::string claims = claims_of({{"sub", "load-1"}, {"exp", "1700003600"}});
  const token_parts parts = split(signer->sign(claims));
  EXPECT_EQ(parts.header, R"({"alg":"RS256","typ":"JWT"})");
  EXPECT_EQ(parts.claims, claims);
  EXPECT_EQ(parts.signature.size(), 256u);
  EXPECT_TRUE(verify(key.get(), parts.signing_input, parts.signature));
  EXPECT_FALSE(verify(key.get(), parts.signing_input + "x", parts.signature));
}

TEST(jwt, es256_signature_is_raw_r_and_s) {
  const pkey_ptr key = generate_ec("P-256");
  ASSERT_TRUE(key);
  auto signer = jwt_signer::make(jwt_algorithm::es256, private_pem(key.get()));
  ASSERT_TRUE(signer) << signer.error().message;
  // Many signatures, so ones whose R or S is short (a leading zero byte, about
  // 1 in 128) or carries a DER sign byte are among them.
  for (int i = 0; i < 300; ++i) {
    const std::string claims = claims_of({{"jti", std::to_string(i)}});
    const std::string token = signer->sign(claims);
    EXPECT_EQ(token.size() - token.rfind('.') - 1, base64url_length(64));
    const token_parts parts = split(token);
    ASSERT_EQ(parts.header, R"({"alg":"ES256","typ":"JWT"})");
    ASSERT_EQ(parts.signature.size(), 64u);
    ASSERT_TRUE(verify(key.get(), parts.signing_input, raw_to_der(parts.signature))) << i;
  }
}

TEST(jwt, signer_copies_share_the_key_across_threads) {
  const pkey_ptr key = generate_ec("P-256");
  auto made = jwt_signer::make(jwt_algorithm::es256, private_pem(key.get()));
  ASSERT_TRUE(made);
  auto hs = jwt_signer::make(jwt_algorithm::hs256, "shared");
  ASSERT_TRUE(hs);
  const jwt_signer es = *made;  // a copy outlives nothing it needs
  made = make_error("dropped");
  const std::string expected_hs = hs->sign("{}");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string token;
      for (int i = 0; i < 200; ++i) {
        token.clear();
        es.sign(token, "{}");
        const token_parts parts = split(token);
        if (!verify(key.get(), parts.signing_input, raw_to_der(parts.signature))) ++failures[t];
        token.clear();
        hs->sign(token, "{}");
        if (token != expected_hs) ++failures[t];
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(jwt, refuses_rsa_keys_below_2048_bits) {
  const pkey_ptr key = generate_rsa(1024);
  const auto signer = jwt_signer::make(jwt_algorithm::rs256, private_pem(key.get()));
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().message,
            "JWT RS256: the RSA key has 1024 bits; RS256 needs 2048 or more (RFC 7518 3.3)");
}

TEST(jwt, refuses_curves_other_than_p256) {
  const pkey_ptr key = generate_ec("P-384");
  const auto signer = jwt_signer::make(jwt_algorithm::es256, private_pem(key.get()));
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().message,
            "JWT ES256: the EC key is on curve secp384r1; ES256 needs P-256 (prime256v1)");
}

TEST(jwt, refuses_a_key_of_the_other_kind) {
  const pkey_ptr rsa = generate_rsa(2048);
  const pkey_ptr ec = generate_ec("P-256");
  const auto es = jwt_signer::make(jwt_algorithm::es256, private_pem(rsa.get()));
  ASSERT_FALSE(es);
  EXPECT_EQ(es.error().message, "JWT ES256: the key is RSA, not EC (P-256)");
  const auto rs = jwt_signer::make(jwt_algorithm::rs256, private_pem(ec.get()));
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().message, "JWT RS256: the key is EC, not RSA");
}

TEST(jwt, bad_pem_says_what_was_expected) {
  EXPECT_EQ(jwt_signer::make(jwt_algorithm::es256, "").error().message,
            "JWT ES256: the PEM text is empty");
  for (const char* text :
       {"not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    const auto signer = jwt_signer::make(jwt_algorithm::rs256, text);
    ASSERT_FALSE(signer);
    EXPECT_TRUE(signer.error().message.starts_with(
        "JWT RS256: no usable private key in the PEM text (expected an unencrypted "
        "'-----BEGIN PRIVATE KEY-----' block): "))
        << signer.error().message;
  }
  // A public key is not a signing key.
  const pkey_ptr key = generate_ec("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, key.get()), 1);
  char* data = nullptr;
  // The length first: it is what sets `data` (argument order is unspecified).
  const long pub_length = BIO_get_mem_data(bio, &data);
  const std::string pub(data, size_t(pub_length));
  BIO_free(bio);
  EXPECT_FALSE(jwt_signer::make(jwt_algorithm::es256, pub));
}

TEST(jwt, refuses_an_encrypted_key_without_prompting) {
  // No passphrase callback would make OpenSSL read one from the terminal.
  const pkey_ptr key = generate_ec("P-256");
  const auto signer =
      jwt_signer::make(jwt_algorithm::es256, private_pem(key.get(), "correct horse"));
  ASSERT_FALSE(signer);
  EXPECT_NE(signer.error().message.find("no usable private key"), std::string::npos);
}

TEST(jwt, accepts_traditional_rsa_pem) {
  // "BEGIN RSA PRIVATE KEY" (PKCS#1), as `openssl genrsa` wrote before 3.0.
  const pkey_ptr key = generate_rsa(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(
      PEM_write_bio_PrivateKey_traditional(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr),
      1);
  char* data = nullptr;
  // The length first: it is what sets `data` (argument order is unspecified).
  const long pem_length = BIO_get_mem_data(bio, &data);
  const std::string pem(data, size_t(pem_length));
  BIO_free(bio);
  ASSERT_TRUE(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----")) << pem.substr(0, 40);
  auto signer = jwt_signer::make(jwt_algorithm::rs256, pem);
  ASSERT_TRUE(signer) << signer.error().message;
  const token_parts parts = split(signer->sign("{}"));
  EXPECT_TRUE(verify(key.get(), parts.signing_input, parts.signature));
}

}  // namespace
}  // namespace horde::proto
