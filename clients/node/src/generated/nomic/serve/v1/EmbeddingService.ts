// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateEmbeddingsRequest as _nomic_serve_v1_CreateEmbeddingsRequest, CreateEmbeddingsRequest__Output as _nomic_serve_v1_CreateEmbeddingsRequest__Output } from '../../../nomic/serve/v1/CreateEmbeddingsRequest';
import type { CreateEmbeddingsResponse as _nomic_serve_v1_CreateEmbeddingsResponse, CreateEmbeddingsResponse__Output as _nomic_serve_v1_CreateEmbeddingsResponse__Output } from '../../../nomic/serve/v1/CreateEmbeddingsResponse';
import type { EmbedBatchRequest as _nomic_serve_v1_EmbedBatchRequest, EmbedBatchRequest__Output as _nomic_serve_v1_EmbedBatchRequest__Output } from '../../../nomic/serve/v1/EmbedBatchRequest';
import type { EmbedBatchResponse as _nomic_serve_v1_EmbedBatchResponse, EmbedBatchResponse__Output as _nomic_serve_v1_EmbedBatchResponse__Output } from '../../../nomic/serve/v1/EmbedBatchResponse';
import type { EmbedListRequest as _nomic_serve_v1_EmbedListRequest, EmbedListRequest__Output as _nomic_serve_v1_EmbedListRequest__Output } from '../../../nomic/serve/v1/EmbedListRequest';
import type { EmbedListResponse as _nomic_serve_v1_EmbedListResponse, EmbedListResponse__Output as _nomic_serve_v1_EmbedListResponse__Output } from '../../../nomic/serve/v1/EmbedListResponse';
import type { EmbedQueryRequest as _nomic_serve_v1_EmbedQueryRequest, EmbedQueryRequest__Output as _nomic_serve_v1_EmbedQueryRequest__Output } from '../../../nomic/serve/v1/EmbedQueryRequest';
import type { EmbedQueryResponse as _nomic_serve_v1_EmbedQueryResponse, EmbedQueryResponse__Output as _nomic_serve_v1_EmbedQueryResponse__Output } from '../../../nomic/serve/v1/EmbedQueryResponse';
import type { EmbedRequest as _nomic_serve_v1_EmbedRequest, EmbedRequest__Output as _nomic_serve_v1_EmbedRequest__Output } from '../../../nomic/serve/v1/EmbedRequest';
import type { EmbedResponse as _nomic_serve_v1_EmbedResponse, EmbedResponse__Output as _nomic_serve_v1_EmbedResponse__Output } from '../../../nomic/serve/v1/EmbedResponse';
import type { HealthRequest as _nomic_serve_v1_HealthRequest, HealthRequest__Output as _nomic_serve_v1_HealthRequest__Output } from '../../../nomic/serve/v1/HealthRequest';
import type { HealthResponse as _nomic_serve_v1_HealthResponse, HealthResponse__Output as _nomic_serve_v1_HealthResponse__Output } from '../../../nomic/serve/v1/HealthResponse';
import type { ImageEmbedListRequest as _nomic_serve_v1_ImageEmbedListRequest, ImageEmbedListRequest__Output as _nomic_serve_v1_ImageEmbedListRequest__Output } from '../../../nomic/serve/v1/ImageEmbedListRequest';
import type { ImageEmbedListResponse as _nomic_serve_v1_ImageEmbedListResponse, ImageEmbedListResponse__Output as _nomic_serve_v1_ImageEmbedListResponse__Output } from '../../../nomic/serve/v1/ImageEmbedListResponse';
import type { ImageEmbedRequest as _nomic_serve_v1_ImageEmbedRequest, ImageEmbedRequest__Output as _nomic_serve_v1_ImageEmbedRequest__Output } from '../../../nomic/serve/v1/ImageEmbedRequest';
import type { ImageEmbedResponse as _nomic_serve_v1_ImageEmbedResponse, ImageEmbedResponse__Output as _nomic_serve_v1_ImageEmbedResponse__Output } from '../../../nomic/serve/v1/ImageEmbedResponse';
import type { ImageStatsRequest as _nomic_serve_v1_ImageStatsRequest, ImageStatsRequest__Output as _nomic_serve_v1_ImageStatsRequest__Output } from '../../../nomic/serve/v1/ImageStatsRequest';
import type { ImageStatsResponse as _nomic_serve_v1_ImageStatsResponse, ImageStatsResponse__Output as _nomic_serve_v1_ImageStatsResponse__Output } from '../../../nomic/serve/v1/ImageStatsResponse';
import type { InfoRequest as _nomic_serve_v1_InfoRequest, InfoRequest__Output as _nomic_serve_v1_InfoRequest__Output } from '../../../nomic/serve/v1/InfoRequest';
import type { InfoResponse as _nomic_serve_v1_InfoResponse, InfoResponse__Output as _nomic_serve_v1_InfoResponse__Output } from '../../../nomic/serve/v1/InfoResponse';
import type { SimilarityRequest as _nomic_serve_v1_SimilarityRequest, SimilarityRequest__Output as _nomic_serve_v1_SimilarityRequest__Output } from '../../../nomic/serve/v1/SimilarityRequest';
import type { SimilarityResponse as _nomic_serve_v1_SimilarityResponse, SimilarityResponse__Output as _nomic_serve_v1_SimilarityResponse__Output } from '../../../nomic/serve/v1/SimilarityResponse';

/**
 * EmbeddingService serves text and image embeddings that share one vector space
 * (nomic-embed-text-v1.5 and nomic-embed-vision-v1.5), plus image statistics.
 * 
 * Every RPC is also reachable as the original JSON API through the Envoy
 * transcoder: the `google.api.http` rules below carry the original paths.
 * Enum-like request values (`prefix`, `averaging_method`) are plain lowercase
 * strings so that the original JSON bodies parse unchanged; an unknown value is
 * INVALID_ARGUMENT naming the allowed ones.
 */
export interface EmbeddingServiceClient extends grpc.Client {
  /**
   * Embeds texts in the shape of OpenAI's embeddings API, so OpenAI clients work
   * unchanged with `base_url` pointing here.
   */
  CreateEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  CreateEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  CreateEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  CreateEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds texts in the shape of OpenAI's embeddings API, so OpenAI clients work
   * unchanged with `base_url` pointing here.
   */
  createEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  createEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  createEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  createEmbeddings(argument: _nomic_serve_v1_CreateEmbeddingsRequest, callback: grpc.requestCallback<_nomic_serve_v1_CreateEmbeddingsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Embeds one text.
   */
  Embed(argument: _nomic_serve_v1_EmbedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  Embed(argument: _nomic_serve_v1_EmbedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  Embed(argument: _nomic_serve_v1_EmbedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  Embed(argument: _nomic_serve_v1_EmbedRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds one text.
   */
  embed(argument: _nomic_serve_v1_EmbedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  embed(argument: _nomic_serve_v1_EmbedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  embed(argument: _nomic_serve_v1_EmbedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  embed(argument: _nomic_serve_v1_EmbedRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Embeds a stream of texts. Results come back in request order, one per
   * request message, with flow control: the server reads ahead only a bounded
   * number of items, so a job of any size runs in constant memory. A bad item
   * is answered with a per-item `error` and the stream goes on.
   */
  EmbedBatch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchResponse__Output>;
  EmbedBatch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchResponse__Output>;
  /**
   * Embeds a stream of texts. Results come back in request order, one per
   * request message, with flow control: the server reads ahead only a bounded
   * number of items, so a job of any size runs in constant memory. A bad item
   * is answered with a per-item `error` and the stream goes on.
   */
  embedBatch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchResponse__Output>;
  embedBatch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchResponse__Output>;
  
  /**
   * Embeds a list of texts in one call, answering with all embeddings at once.
   * For large jobs prefer EmbedBatch, which streams in constant memory.
   */
  EmbedList(argument: _nomic_serve_v1_EmbedListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  EmbedList(argument: _nomic_serve_v1_EmbedListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  EmbedList(argument: _nomic_serve_v1_EmbedListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  EmbedList(argument: _nomic_serve_v1_EmbedListRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds a list of texts in one call, answering with all embeddings at once.
   * For large jobs prefer EmbedBatch, which streams in constant memory.
   */
  embedList(argument: _nomic_serve_v1_EmbedListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  embedList(argument: _nomic_serve_v1_EmbedListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  embedList(argument: _nomic_serve_v1_EmbedListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  embedList(argument: _nomic_serve_v1_EmbedListRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedListResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Embeds one search query: the `search_query` task prefix is always applied,
   * whatever the server's default prefix is.
   */
  EmbedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  EmbedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  EmbedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  EmbedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds one search query: the `search_query` task prefix is always applied,
   * whatever the server's default prefix is.
   */
  embedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  embedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  embedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  embedQuery(argument: _nomic_serve_v1_EmbedQueryRequest, callback: grpc.requestCallback<_nomic_serve_v1_EmbedQueryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Reports whether the server and each model are ready. Kubernetes probes
   * should prefer the standard `grpc.health.v1.Health` service, which the
   * server also runs, with one entry per model ("text", "vision").
   */
  Health(argument: _nomic_serve_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _nomic_serve_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _nomic_serve_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _nomic_serve_v1_HealthRequest, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reports whether the server and each model are ready. Kubernetes probes
   * should prefer the standard `grpc.health.v1.Health` service, which the
   * server also runs, with one entry per model ("text", "vision").
   */
  health(argument: _nomic_serve_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _nomic_serve_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _nomic_serve_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _nomic_serve_v1_HealthRequest, callback: grpc.requestCallback<_nomic_serve_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Embeds one image into the text embedding space.
   */
  ImageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds one image into the text embedding space.
   */
  imageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  imageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  imageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  imageEmbed(argument: _nomic_serve_v1_ImageEmbedRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Embeds a list of images in one batched inference.
   */
  ImageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  ImageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Embeds a list of images in one batched inference.
   */
  imageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  imageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  imageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  imageEmbedList(argument: _nomic_serve_v1_ImageEmbedListRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageEmbedListResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Extracts EXIF metadata and average and dominant colours of one image.
   */
  ImageStats(argument: _nomic_serve_v1_ImageStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  ImageStats(argument: _nomic_serve_v1_ImageStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  ImageStats(argument: _nomic_serve_v1_ImageStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  ImageStats(argument: _nomic_serve_v1_ImageStatsRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Extracts EXIF metadata and average and dominant colours of one image.
   */
  imageStats(argument: _nomic_serve_v1_ImageStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  imageStats(argument: _nomic_serve_v1_ImageStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  imageStats(argument: _nomic_serve_v1_ImageStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  imageStats(argument: _nomic_serve_v1_ImageStatsRequest, callback: grpc.requestCallback<_nomic_serve_v1_ImageStatsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Describes the running configuration and the models actually served.
   */
  Info(argument: _nomic_serve_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _nomic_serve_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _nomic_serve_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _nomic_serve_v1_InfoRequest, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describes the running configuration and the models actually served.
   */
  info(argument: _nomic_serve_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _nomic_serve_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _nomic_serve_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _nomic_serve_v1_InfoRequest, callback: grpc.requestCallback<_nomic_serve_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Scores candidates (texts and images, mixed) against one query (a text or an
   * image) by the cosine of their embeddings: the vectors the other RPCs return,
   * in the space the text and vision models share.
   */
  Similarity(argument: _nomic_serve_v1_SimilarityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  Similarity(argument: _nomic_serve_v1_SimilarityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  Similarity(argument: _nomic_serve_v1_SimilarityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  Similarity(argument: _nomic_serve_v1_SimilarityRequest, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Scores candidates (texts and images, mixed) against one query (a text or an
   * image) by the cosine of their embeddings: the vectors the other RPCs return,
   * in the space the text and vision models share.
   */
  similarity(argument: _nomic_serve_v1_SimilarityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  similarity(argument: _nomic_serve_v1_SimilarityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  similarity(argument: _nomic_serve_v1_SimilarityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  similarity(argument: _nomic_serve_v1_SimilarityRequest, callback: grpc.requestCallback<_nomic_serve_v1_SimilarityResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * EmbeddingService serves text and image embeddings that share one vector space
 * (nomic-embed-text-v1.5 and nomic-embed-vision-v1.5), plus image statistics.
 * 
 * Every RPC is also reachable as the original JSON API through the Envoy
 * transcoder: the `google.api.http` rules below carry the original paths.
 * Enum-like request values (`prefix`, `averaging_method`) are plain lowercase
 * strings so that the original JSON bodies parse unchanged; an unknown value is
 * INVALID_ARGUMENT naming the allowed ones.
 */
export interface EmbeddingServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Embeds texts in the shape of OpenAI's embeddings API, so OpenAI clients work
   * unchanged with `base_url` pointing here.
   */
  CreateEmbeddings: grpc.handleUnaryCall<_nomic_serve_v1_CreateEmbeddingsRequest__Output, _nomic_serve_v1_CreateEmbeddingsResponse>;
  
  /**
   * Embeds one text.
   */
  Embed: grpc.handleUnaryCall<_nomic_serve_v1_EmbedRequest__Output, _nomic_serve_v1_EmbedResponse>;
  
  /**
   * Embeds a stream of texts. Results come back in request order, one per
   * request message, with flow control: the server reads ahead only a bounded
   * number of items, so a job of any size runs in constant memory. A bad item
   * is answered with a per-item `error` and the stream goes on.
   */
  EmbedBatch: grpc.handleBidiStreamingCall<_nomic_serve_v1_EmbedBatchRequest__Output, _nomic_serve_v1_EmbedBatchResponse>;
  
  /**
   * Embeds a list of texts in one call, answering with all embeddings at once.
   * For large jobs prefer EmbedBatch, which streams in constant memory.
   */
  EmbedList: grpc.handleUnaryCall<_nomic_serve_v1_EmbedListRequest__Output, _nomic_serve_v1_EmbedListResponse>;
  
  /**
   * Embeds one search query: the `search_query` task prefix is always applied,
   * whatever the server's default prefix is.
   */
  EmbedQuery: grpc.handleUnaryCall<_nomic_serve_v1_EmbedQueryRequest__Output, _nomic_serve_v1_EmbedQueryResponse>;
  
  /**
   * Reports whether the server and each model are ready. Kubernetes probes
   * should prefer the standard `grpc.health.v1.Health` service, which the
   * server also runs, with one entry per model ("text", "vision").
   */
  Health: grpc.handleUnaryCall<_nomic_serve_v1_HealthRequest__Output, _nomic_serve_v1_HealthResponse>;
  
  /**
   * Embeds one image into the text embedding space.
   */
  ImageEmbed: grpc.handleUnaryCall<_nomic_serve_v1_ImageEmbedRequest__Output, _nomic_serve_v1_ImageEmbedResponse>;
  
  /**
   * Embeds a list of images in one batched inference.
   */
  ImageEmbedList: grpc.handleUnaryCall<_nomic_serve_v1_ImageEmbedListRequest__Output, _nomic_serve_v1_ImageEmbedListResponse>;
  
  /**
   * Extracts EXIF metadata and average and dominant colours of one image.
   */
  ImageStats: grpc.handleUnaryCall<_nomic_serve_v1_ImageStatsRequest__Output, _nomic_serve_v1_ImageStatsResponse>;
  
  /**
   * Describes the running configuration and the models actually served.
   */
  Info: grpc.handleUnaryCall<_nomic_serve_v1_InfoRequest__Output, _nomic_serve_v1_InfoResponse>;
  
  /**
   * Scores candidates (texts and images, mixed) against one query (a text or an
   * image) by the cosine of their embeddings: the vectors the other RPCs return,
   * in the space the text and vision models share.
   */
  Similarity: grpc.handleUnaryCall<_nomic_serve_v1_SimilarityRequest__Output, _nomic_serve_v1_SimilarityResponse>;
  
}

export interface EmbeddingServiceDefinition extends grpc.ServiceDefinition {
  CreateEmbeddings: MethodDefinition<_nomic_serve_v1_CreateEmbeddingsRequest, _nomic_serve_v1_CreateEmbeddingsResponse, _nomic_serve_v1_CreateEmbeddingsRequest__Output, _nomic_serve_v1_CreateEmbeddingsResponse__Output>
  Embed: MethodDefinition<_nomic_serve_v1_EmbedRequest, _nomic_serve_v1_EmbedResponse, _nomic_serve_v1_EmbedRequest__Output, _nomic_serve_v1_EmbedResponse__Output>
  EmbedBatch: MethodDefinition<_nomic_serve_v1_EmbedBatchRequest, _nomic_serve_v1_EmbedBatchResponse, _nomic_serve_v1_EmbedBatchRequest__Output, _nomic_serve_v1_EmbedBatchResponse__Output>
  EmbedList: MethodDefinition<_nomic_serve_v1_EmbedListRequest, _nomic_serve_v1_EmbedListResponse, _nomic_serve_v1_EmbedListRequest__Output, _nomic_serve_v1_EmbedListResponse__Output>
  EmbedQuery: MethodDefinition<_nomic_serve_v1_EmbedQueryRequest, _nomic_serve_v1_EmbedQueryResponse, _nomic_serve_v1_EmbedQueryRequest__Output, _nomic_serve_v1_EmbedQueryResponse__Output>
  Health: MethodDefinition<_nomic_serve_v1_HealthRequest, _nomic_serve_v1_HealthResponse, _nomic_serve_v1_HealthRequest__Output, _nomic_serve_v1_HealthResponse__Output>
  ImageEmbed: MethodDefinition<_nomic_serve_v1_ImageEmbedRequest, _nomic_serve_v1_ImageEmbedResponse, _nomic_serve_v1_ImageEmbedRequest__Output, _nomic_serve_v1_ImageEmbedResponse__Output>
  ImageEmbedList: MethodDefinition<_nomic_serve_v1_ImageEmbedListRequest, _nomic_serve_v1_ImageEmbedListResponse, _nomic_serve_v1_ImageEmbedListRequest__Output, _nomic_serve_v1_ImageEmbedListResponse__Output>
  ImageStats: MethodDefinition<_nomic_serve_v1_ImageStatsRequest, _nomic_serve_v1_ImageStatsResponse, _nomic_serve_v1_ImageStatsRequest__Output, _nomic_serve_v1_ImageStatsResponse__Output>
  Info: MethodDefinition<_nomic_serve_v1_InfoRequest, _nomic_serve_v1_InfoResponse, _nomic_serve_v1_InfoRequest__Output, _nomic_serve_v1_InfoResponse__Output>
  Similarity: MethodDefinition<_nomic_serve_v1_SimilarityRequest, _nomic_serve_v1_SimilarityResponse, _nomic_serve_v1_SimilarityRequest__Output, _nomic_serve_v1_SimilarityResponse__Output>
}
