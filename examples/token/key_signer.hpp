// mailauth examples: a private_key_jwt signer (RFC 7523) from a PEM private key, with OpenSSL's EVP API:
// RS256/PS256 (RSA, 2048 bits or more), ES256/ES384/ES512 (P-256/P-384/P-521), EdDSA (Ed25519).
#pragma once

#include <mailauth/error.hpp>
#include <mailauth/oauth/client_auth.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mailauth_examples::token {

namespace detail {

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::shared_ptr<EVP_PKEY>;

/// OpenSSL's last error queue entry as text, and the queue cleared.
inline std::string openssl_error_text()
{
    char buf[256] = {};
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown OpenSSL error";
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

/// A passphrase callback that refuses: an encrypted key fails instead of prompting on the terminal.
extern "C" inline int mailauth_no_passphrase(char*, int, int, void*) { return 0; }

/// The JWS algorithm a key signs with by default, and the byte length of one ECDSA coordinate (0 otherwise).
inline std::string default_algorithm(EVP_PKEY* key, std::size_t& ec_size, std::string& why)
{
    ec_size = 0;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(key) < 2048) {
            why = "RSA keys for client assertions need at least 2048 bits";
            return {};
        }
        return "RS256";
    case EVP_PKEY_EC: {
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) {
            why = "cannot read the curve of the EC key";
            return {};
        }
        const std::string_view g{group, len};
        if (g == "prime256v1" || g == "P-256") { ec_size = 32; return "ES256"; }
        if (g == "secp384r1" || g == "P-384") { ec_size = 48; return "ES384"; }
        if (g == "secp521r1" || g == "P-521") { ec_size = 66; return "ES512"; }
        why = "unsupported EC curve " + std::string{g} + " (use P-256, P-384 or P-521)";
        return {};
    }
    case EVP_PKEY_ED25519: return "EdDSA";
    default: why = "unsupported key type (use RSA, EC P-256/P-384/P-521 or Ed25519)"; return {};
    }
}

/// The digest of a JWS algorithm (nullptr for EdDSA, which hashes internally).
inline const EVP_MD* digest_of(std::string_view alg) noexcept
{
    if (alg == "RS256" || alg == "PS256" || alg == "ES256") return EVP_sha256();
    if (alg == "RS384" || alg == "PS384" || alg == "ES384") return EVP_sha384();
    if (alg == "RS512" || alg == "PS512" || alg == "ES512") return EVP_sha512();
    return nullptr;
}

/// A DER ECDSA-Sig-Value as the fixed-size r || s that JWS wants (RFC 7518 §3.4).
inline bool der_to_jose(const unsigned char* der, std::size_t der_len, std::size_t coord, std::string& out)
{
    const unsigned char* p = der;
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
    if (sig == nullptr) return false;
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    std::vector<unsigned char> raw(coord * 2);
    const bool ok = BN_bn2binpad(r, raw.data(), static_cast<int>(coord)) == static_cast<int>(coord) &&
                    BN_bn2binpad(s, raw.data() + coord, static_cast<int>(coord)) == static_cast<int>(coord);
    ECDSA_SIG_free(sig);
    if (ok) out.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
    return ok;
}

} // namespace detail

/// Reads the unencrypted PEM private key in `path` (PKCS#8 or traditional) into a private_key_jwt for
/// `client_id`; `algorithm` empty picks RS256 / ES256 / ES384 / ES512 / EdDSA from the key. On failure
/// `why` says what is wrong (never any key material).
inline std::error_code load_assertion_key(const std::string& path, const std::string& client_id,
                                          std::string algorithm, const std::string& key_id,
                                          mailauth::oauth::private_key_jwt& out, std::string& why)
{
    out = {};
    BIO* bio = BIO_new_file(path.c_str(), "r");
    if (bio == nullptr) {
        why = "cannot open " + path + ": " + detail::openssl_error_text();
        return make_error_code(mailauth::errc::invalid_argument);
    }
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio, nullptr, &detail::mailauth_no_passphrase, nullptr);
    BIO_free(bio);
    if (raw == nullptr) {
        why = path + " holds no unencrypted PEM private key: " + detail::openssl_error_text();
        return make_error_code(mailauth::errc::invalid_argument);
    }
    detail::pkey_ptr key{raw, detail::pkey_free{}};
    std::size_t ec_size = 0;
    const std::string natural = detail::default_algorithm(key.get(), ec_size, why);
    if (natural.empty()) return make_error_code(mailauth::errc::invalid_argument);
    if (algorithm.empty()) algorithm = natural;
    const bool rsa = natural == "RS256";
    const bool allowed = algorithm == natural || (rsa && (algorithm == "RS384" || algorithm == "RS512" || algorithm == "PS256" ||
                                                          algorithm == "PS384" || algorithm == "PS512"));
    if (!allowed) {
        why = "algorithm " + algorithm + " does not fit this key (it signs " + natural + (rsa ? ", RS384/512 or PS256/384/512)" : ")");
        return make_error_code(mailauth::errc::invalid_argument);
    }
    const bool pss = algorithm.substr(0, 2) == "PS";
    const EVP_MD* md = detail::digest_of(algorithm);

    out.client_id = client_id;
    out.algorithm = algorithm;
    out.key_id = key_id;
    out.signer = [key, md, pss, ec_size](std::string_view input, std::string& signature) -> std::error_code {
        signature.clear();
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        if (ctx == nullptr) return make_error_code(mailauth::errc::io_error);
        EVP_PKEY_CTX* pctx = nullptr;
        bool ok = EVP_DigestSignInit(ctx, &pctx, md, nullptr, key.get()) == 1;
        if (ok && pss)
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
        std::size_t len = 0;
        const auto* data = reinterpret_cast<const unsigned char*>(input.data());
        ok = ok && EVP_DigestSign(ctx, nullptr, &len, data, input.size()) == 1;
        std::vector<unsigned char> sig(len);
        ok = ok && EVP_DigestSign(ctx, sig.data(), &len, data, input.size()) == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
            ERR_clear_error();
            return make_error_code(mailauth::errc::io_error);
        }
        if (ec_size != 0) {
            if (!detail::der_to_jose(sig.data(), len, ec_size, signature)) return make_error_code(mailauth::errc::io_error);
        } else {
            signature.assign(reinterpret_cast<const char*>(sig.data()), len);
        }
        return {};
    };
    return {};
}

} // namespace mailauth_examples::token
