/** Where the person's actions are kept, when that is not as it should be: in this tab's memory
 * only (no IndexedDB), an earlier store unreadable, a change that could not be saved. */
import { useStoreNotices } from "./sync/react";

export function StoreNotices() {
  const notices = useStoreNotices();
  if (notices.length === 0) return null;
  return (
    <div className="offline-banner" role="alert" data-testid="store-notices">
      {notices.map((notice) => (
        <p key={notice.code} data-testid={`store-notice-${notice.code}`}>
          {notice.message}
        </p>
      ))}
    </div>
  );
}
