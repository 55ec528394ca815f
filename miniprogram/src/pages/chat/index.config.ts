export default definePageConfig({ navigationBarTitleText: '安心保客服' });
