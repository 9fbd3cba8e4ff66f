{
  "targets": [
    {
      "target_name": "spell_gemm",
      "sources": ["addon.c", "sgemm.c", "pool.c", "attention.c", "elementwise.c"],
      "cflags": ["-O3", "-march=native", "-ffp-contract=fast", "-std=gnu11", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-march=native", "-ffp-contract=fast"]
      }
    }
  ]
}
