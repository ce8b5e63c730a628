import { html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';

/** Order failed: say why (failure_reason is written for people). */
export const orderFailed: Template = (change) => {
  const reference = orderReference(change.orderId);
  const reason = change.failureReason.trim() || 'no reason was given';
  return renderMessage(change, {
    subject: `Order ${reference} could not be completed`,
    intro: [`Sorry, your order ${reference} could not be completed: ${reason}. The seats it held are released.`],
    introHtml: [
      html`Sorry, your order <strong>${reference}</strong> could not be completed: ${reason}. The seats it held are released.`,
    ],
    showLines: true,
  });
};
