/*
 * N-API glue for the native gemm: exports sgemm(transA, transB, M, N, K, A, B, C, accumulate,
 * threads[, rowStable]) and info(). Context-aware (NAPI_MODULE_INIT): each Node worker thread that loads the
 * addon gets its own instance with its own packing buffers, so concurrent workers never share
 * state. Calls are synchronous; they block the calling JS thread until C is written.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

#include "sgemm.h"


#define CHECK(call)                                                                          \
  do {                                                                                       \
    if ((call) != napi_ok) {                                                                 \
      napi_throw_error(env, NULL, "spell_gemm: N-API call failed: " #call);                  \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)p; /* already offset by byte_offset */
  return 1;
}

static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  spell_gemm_instance *inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  if (argc != 10 && argc != 11) {
    napi_throw_type_error(env, NULL, "spell_gemm.sgemm: expected 10 or 11 arguments");
    return NULL;
  }
  bool tA, tB, acc, rowStable = false;
  int64_t M, N, K, threads;
  CHECK(napi_get_value_bool(env, argv[0], &tA));
  CHECK(napi_get_value_bool(env, argv[1], &tB));
  CHECK(napi_get_value_int64(env, argv[2], &M));
  CHECK(napi_get_value_int64(env, argv[3], &N));
  CHECK(napi_get_value_int64(env, argv[4], &K));
  CHECK(napi_get_value_bool(env, argv[8], &acc));
  CHECK(napi_get_value_int64(env, argv[9], &threads));
  if (argc == 11) CHECK(napi_get_value_bool(env, argv[10], &rowStable));
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_f32(env, argv[5], &A, &la) || !get_f32(env, argv[6], &B, &lb) ||
      !get_f32(env, argv[7], &C, &lc)) {
    napi_throw_type_error(env, NULL, "spell_gemm.sgemm: A, B and C must be Float32Arrays");
    return NULL;
  }
  if (M < 0 || N < 0 || K < 0 || (uint64_t)la < (uint64_t)(M * K) ||
      (uint64_t)lb < (uint64_t)(K * N) || (uint64_t)lc < (uint64_t)(M * N)) {
    napi_throw_range_error(env, NULL, "spell_gemm.sgemm: dims do not fit the buffers");
    return NULL;
  }
  if (threads < 1) threads = 1;
  if (threads > SPELL_MAX_THREADS) threads = SPELL_MAX_THREADS;
  if (!spell_sgemm(inst, tA, tB, (long)M, (long)N, (long)K, A, B, C, acc, (int)threads, rowStable)) {
    napi_throw_error(env, NULL, "spell_gemm.sgemm: out of memory for packing buffers");
  }
  return NULL;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, spell_sgemm_isa(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "isa", v));
  CHECK(napi_create_int32(env, spell_sgemm_mr(), &v));
  CHECK(napi_set_named_property(env, obj, "mr", v));
  CHECK(napi_create_int32(env, spell_sgemm_nr(), &v));
  CHECK(napi_set_named_property(env, obj, "nr", v));
  return obj;
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  spell_gemm_instance *inst = (spell_gemm_instance *)data;
  spell_sgemm_release(inst);
  free(inst);
}

NAPI_MODULE_INIT() {
  spell_gemm_instance *inst = (spell_gemm_instance *)calloc(1, sizeof(spell_gemm_instance));
  if (inst == NULL) {
    napi_throw_error(env, NULL, "spell_gemm: out of memory");
    return NULL;
  }
  if (napi_set_instance_data(env, inst, finalize_instance, NULL) != napi_ok) {
    free(inst);
    return NULL;
  }
  napi_value fn;
  CHECK(napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, js_sgemm, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "sgemm", fn));
  CHECK(napi_create_function(env, "info", NAPI_AUTO_LENGTH, js_info, inst, &fn));
  CHECK(napi_set_named_property(env, exports, "info", fn));
  return exports;
}
