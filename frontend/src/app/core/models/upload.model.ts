/** Body of `POST /api/uploads`. */
export interface UploadRequest {
  filename: string;
  contentType: string;
  size: number;
  ownerId: string;
}

export interface UploadPart {
  partNumber: number;
  url: string;
  size: number;
}

/** Answer of `POST /api/uploads`: one presigned PUT, or one per part then a completion. */
export interface UploadPlan {
  kind: 'single' | 'multipart';
  key: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
  url: string | null;
  uploadId: string | null;
  partSize: number | null;
  parts: UploadPart[];
  completeUrl: string | null;
}

/** Where an upload stands: bytes sent so far, and the object's key once it is whole. */
export interface UploadProgress {
  loaded: number;
  total: number;
  key: string | null;
}
