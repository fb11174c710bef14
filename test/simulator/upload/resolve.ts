/**
 * `oss://` URLs in consuming requests (file-upload.md §3, §7 "Resolution"): the object must exist,
 * be younger than its lifetime, belong to the caller's account and have been uploaded for the
 * request's own `model`. Real codes for these failures are unconfirmed: the common 400 envelope.
 */
import { CustomizationError } from '../customization/errors';
import { accountOf, type StoredObject, type UploadStore } from './store';

/** Looks an `oss://` URL up for one request; throws the endpoint's error when it cannot be used. */
export type OssResolver = (url: string) => StoredObject;

function unusable(url: string, why: string): CustomizationError {
  return new CustomizationError(400, 'InvalidParameter', `The resource '${url}' cannot be used: ${why}.`);
}

export function ossResolver(uploads: UploadStore, apiKey: string, model: string): OssResolver {
  return (url) => {
    const object = uploads.get(url.slice('oss://'.length));
    if (!object) throw unusable(url, 'no such temporary file');
    if (uploads.now() - object.uploadedAt > uploads.options.objectLifetimeMs) throw unusable(url, 'the temporary file has expired');
    if (object.account !== accountOf(apiKey)) throw unusable(url, 'it was uploaded by another account');
    if (object.model !== model) throw unusable(url, `it was uploaded for model '${object.model}', not '${model}'`);
    return object;
  };
}
