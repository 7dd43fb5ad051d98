% Text
% Wendy and Vince have been married since 2009. Vince worked in Wendy's shop all of 2017 and she
% paid him $8000.
% By hand: service performed by an individual in the employ of his spouse (§3306(c)(5)).

% Question
% Section 3306(c)(5) applies to Wendy employing Vince for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(wendy_and_vince).
agent_(wendy_and_vince,wendy).
agent_(wendy_and_vince,vince).
start_(wendy_and_vince,"2009-08-01").
joint_return_(wendy_vince_joint_2017).
agent_(wendy_vince_joint_2017,wendy).
agent_(wendy_vince_joint_2017,vince).
start_(wendy_vince_joint_2017,"2017-01-01").
end_(wendy_vince_joint_2017,"2017-12-31").
business_(wendys_shop).
agent_(wendys_shop,wendy).
service_(vince_works_in_shop).
agent_(vince_works_in_shop,vince).
patient_(vince_works_in_shop,wendy).
location_(vince_works_in_shop,wendys_shop).
start_(vince_works_in_shop,"2017-01-02").
end_(vince_works_in_shop,"2017-12-29").
payment_(wendy_pays_vince).
agent_(wendy_pays_vince,wendy).
patient_(wendy_pays_vince,vince).
purpose_(wendy_pays_vince,vince_works_in_shop).
amount_(wendy_pays_vince,8000).
start_(wendy_pays_vince,"2017-12-29").
service_(xena_works_in_shop).
agent_(xena_works_in_shop,xena).
patient_(xena_works_in_shop,wendy).
location_(xena_works_in_shop,wendys_shop).
start_(xena_works_in_shop,"2017-05-01").
end_(xena_works_in_shop,"2017-08-31").
payment_(wendy_pays_xena).
agent_(wendy_pays_xena,wendy).
patient_(wendy_pays_xena,xena).
purpose_(wendy_pays_xena,xena_works_in_shop).
amount_(wendy_pays_xena,3000).
start_(wendy_pays_xena,"2017-08-31").
income_(wendy_shop_income).
agent_(wendy_shop_income,wendy).
amount_(wendy_shop_income,70000).
start_(wendy_shop_income,"2017-12-31").

% Test
:- s3306_c_5(_,wendy,vince,2017).
:- halt.
