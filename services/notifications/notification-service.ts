/** NotificationService's handler. */
import { type ServiceImplementation } from 'warren';
import type { NotificationServiceDefinition } from '../../gen/shop/notifications/v1/notifications.js';
import { pageOf, readPage } from '../shared/paging.js';
import type { NotificationStore } from './notification-store.js';

/** The handlers of shop.notifications.v1.NotificationService. */
export function createNotificationService(
  store: NotificationStore,
): ServiceImplementation<typeof NotificationServiceDefinition> {
  return {
    listNotifications(request) {
      const page = readPage(request.pageSize, request.pageToken);
      const { rows, nextPageToken } = pageOf(
        store.list(page, { customerId: request.customerId, orderId: request.orderId }),
        page,
      );
      return { notifications: rows.map((row) => row.notification), nextPageToken };
    },
  };
}
