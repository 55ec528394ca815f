export default definePageConfig({ navigationBarTitleText: '投保' });
