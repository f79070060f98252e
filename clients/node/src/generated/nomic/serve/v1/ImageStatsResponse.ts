// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../google/protobuf/Struct';
import type { ColorData as _nomic_serve_v1_ColorData, ColorData__Output as _nomic_serve_v1_ColorData__Output } from '../../../nomic/serve/v1/ColorData';

/**
 * ImageStatsResponse carries the metadata and colour statistics of one image.
 */
export interface ImageStatsResponse {
  /**
   * Readable EXIF tags by name; numbers as numbers, rationals as floats.
   */
  'exif_data'?: (_google_protobuf_Struct | null);
  /**
   * Colour statistics; absent when the image has no opaque pixel.
   */
  'color_data'?: (_nomic_serve_v1_ColorData | null);
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms'?: (number | string);
  /**
   * Names of tags left out of `exif_data` because their values are too large
   * (over 4 KB each, or past 64 KB for the whole reply); `EXIF` when the whole
   * EXIF block is over 1 MB and was not read.
   */
  'exif_omitted'?: (string)[];
}

/**
 * ImageStatsResponse carries the metadata and colour statistics of one image.
 */
export interface ImageStatsResponse__Output {
  /**
   * Readable EXIF tags by name; numbers as numbers, rationals as floats.
   */
  'exif_data': (_google_protobuf_Struct__Output | null);
  /**
   * Colour statistics; absent when the image has no opaque pixel.
   */
  'color_data': (_nomic_serve_v1_ColorData__Output | null);
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms': (number);
  /**
   * Names of tags left out of `exif_data` because their values are too large
   * (over 4 KB each, or past 64 KB for the whole reply); `EXIF` when the whole
   * EXIF block is over 1 MB and was not read.
   */
  'exif_omitted': (string)[];
}
